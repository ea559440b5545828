"""Cross-entropy on logits: softmax_cross_entropy_with_logits (and _v2), the sparse version for
class indices, and sigmoid_cross_entropy_with_logits (tf.nn.*).

The softmax losses are fused ops with a stable kernel (the max is subtracted before exp) whose
second output, softmax - labels, is the gradient; tensors of any rank are reshaped to the ops'
[rows, classes] matrices.
"""

from tfcore.framework import dtypes, errors
from tfcore.framework.common_shapes import check_same_dtype, normalize_axis
from tfcore.framework.graph import apply_op, convert_to_tensor
from tfcore.framework.registry import register_gradient, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.ops import array_ops, dimension_ops, math_ops, reduction_ops
from tfcore.ops.activation_ops import _float_input, _softmax_axis, log_softmax, softmax, softplus
from tfcore.ops.scopes import name_scope

# Public names; tfcore/nn.py exports them as tf.nn.<name>.
__all__ = [
    "softmax_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits_v2",
    "sparse_softmax_cross_entropy_with_logits",
    "sigmoid_cross_entropy_with_logits",
]


# ================================================================================================
# Cross-entropy on logits: fused ops with a stable kernel and the gradient softmax - labels
# ================================================================================================


def _require_named_arguments(function, sentinel, labels, logits):
    """TF1's check that `labels` and `logits` were both given, by name."""
    if sentinel is not None:
        raise ValueError(f"Only call {function} with named arguments (labels=..., logits=..., ...).")
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided.")


def _log_probs(xp, logits):
    shifted = logits - xp.max(logits, axis=1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))


def _xent_shape(inputs):
    logits, labels = inputs
    dtype = check_same_dtype(inputs)
    if not dtype.is_floating:
        raise ValueError(f"Cross-entropy needs floating-point logits, got {dtype.name}")
    for t in inputs:
        if t.shape.ndims not in (None, 2):
            raise ValueError(f"Shape must be rank 2 but is rank {t.shape.ndims}")
    if not logits.shape.is_compatible_with(labels.shape):
        raise ValueError(f"logits and labels must be same size: logits_size={logits.shape} "
                         f"labels_size={labels.shape}")
    shape = TensorShape([None, None]).merge_with(logits.shape).merge_with(labels.shape)
    return [(TensorShape([shape[0].value]), dtype), (shape, dtype)]


def _softmax_xent_kernel(ctx, logits, labels):
    xp = ctx.xp
    log_probs = _log_probs(xp, logits)
    loss = -xp.sum(labels * log_probs, axis=1)
    return loss, xp.exp(log_probs) - labels


register_op("SoftmaxCrossEntropyWithLogits", shape=_xent_shape, kernel=_softmax_xent_kernel)


def _is_zeros(t):
    return t.op.type == "ZerosLike"


def _times_rows(vector, matrix):
    """vector[:, None] * matrix."""
    return array_ops.reshape(vector, [-1, 1]) * matrix


def _softmax_second_order(logits, grad_backprop):
    """The gradient reaching the logits through the `backprop` output (softmax - labels)."""
    probs = softmax(logits)
    return (grad_backprop - reduction_ops.reduce_sum(grad_backprop * probs, 1, keepdims=True)) * probs


@register_gradient("SoftmaxCrossEntropyWithLogits")
def _SoftmaxCrossEntropyWithLogitsGrad(op, grad_loss, grad_backprop):
    """loss = -sum(labels * log_softmax(logits)):
    d/dlogits = softmax(logits) - labels (the op's second output), d/dlabels = -log_softmax(logits).

    NOTE: the exact d/dlogits is sum(labels) * softmax - labels; like TF we assume each row of labels
    sums to 1 (a probability distribution).
    """
    logits = op.inputs[0]
    grad_logits = _times_rows(grad_loss, op.outputs[1])
    grad_labels = _times_rows(grad_loss, -log_softmax(logits))
    if not _is_zeros(grad_backprop):
        grad_logits = grad_logits + _softmax_second_order(logits, grad_backprop)
        grad_labels = grad_labels - grad_backprop
    return [grad_logits, grad_labels]


def _move_axis_last(t, axis):
    rank = t.shape.ndims
    axis = normalize_axis(axis, rank) if rank is not None else axis
    if axis == -1 or (rank is not None and axis == rank - 1):
        return t
    if rank is None:
        raise ValueError("softmax_cross_entropy_with_logits needs a known rank for a non-last axis")
    perm = [i for i in range(rank) if i != axis] + [axis]
    return dimension_ops.transpose(t, perm)


def _as_matrix(t):
    """`t` reshaped to 2-D [rows, classes] (classes: the last dimension, which must be known)."""
    if t.shape.ndims == 2:
        return t
    classes = t.shape[-1].value if t.shape.ndims else None
    if classes is None:
        raise ValueError(f"The number of classes (last dimension of {t.name}) must be known, "
                         f"got shape {t.shape}")
    return array_ops.reshape(t, [-1, classes])


def _leading_shape(t):
    """The shape of `t` without its last dimension (a list, or a tensor when not known enough)."""
    dims = t.shape.as_list()[:-1]
    if sum(d is None for d in dims) <= 1:
        return [-1 if d is None else d for d in dims]
    return array_ops.shape(t)[:-1]


def softmax_cross_entropy_with_logits_v2(labels, logits, axis=-1, name=None, dim=None):
    """-sum(labels * log_softmax(logits)) along `axis`; gradients flow into both labels and logits.

    One fused op (SoftmaxCrossEntropyWithLogits): finite for any finite logits, even 1000.
    """
    axis = _softmax_axis(axis, dim)
    with name_scope(name, "softmax_cross_entropy_with_logits") as scope:
        logits = _float_input(logits, "logits", "SoftmaxCrossEntropyWithLogits")
        labels = math_ops.cast(convert_to_tensor(labels, name="labels"), logits.dtype.base_dtype)
        if not logits.shape.is_compatible_with(labels.shape):
            raise ValueError(f"logits and labels must have the same shape, received ({logits.shape} "
                             f"vs {labels.shape}).")
        if logits.shape.ndims == 0:
            raise ValueError(f"Logits cannot be scalars - received shape {logits.shape}.")
        logits, labels = _move_axis_last(logits, axis), _move_axis_last(labels, axis)
        if logits.shape.ndims == 2:
            loss, _ = apply_op("SoftmaxCrossEntropyWithLogits", [logits, labels], name=scope)
            return loss
        loss, _ = apply_op("SoftmaxCrossEntropyWithLogits", [_as_matrix(logits), _as_matrix(labels)])
        out = array_ops.reshape(loss, _leading_shape(logits), name=scope)
        out.set_shape(logits.shape.as_list()[:-1] if logits.shape.ndims is not None else None)
        return out


def softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, dim=-1, name=None,
                                      axis=None):
    """TF1's version: like `_v2`, but no gradient flows into `labels` (they are stop_gradient-ed)."""
    _require_named_arguments("softmax_cross_entropy_with_logits", _sentinel, labels, logits)
    with name_scope(name, "softmax_cross_entropy_with_logits_sg") as scope:
        labels = array_ops.stop_gradient(labels, name="labels_stop_gradient")
    return softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits,
                                                axis=dim if axis is None else axis, name=scope)


def _sparse_xent_shape(inputs):
    logits, labels = inputs
    if not logits.dtype.base_dtype.is_floating:
        raise ValueError(f"Cross-entropy needs floating-point logits, got {logits.dtype.base_dtype.name}")
    if labels.dtype.base_dtype not in (dtypes.int32, dtypes.int64):
        raise ValueError(f"labels must be int32 or int64, got {labels.dtype.base_dtype.name}")
    if logits.shape.ndims not in (None, 2) or labels.shape.ndims not in (None, 1):
        raise ValueError("logits must be 2-D and labels 1-D")
    batch = logits.shape[0].merge_with(labels.shape[0]).value  # Dimension(None) where the rank is unknown
    classes = logits.shape[1].value
    return [(TensorShape([batch]), logits.dtype.base_dtype),
            (TensorShape([batch, classes]), logits.dtype.base_dtype)]


def _sparse_xent_kernel(ctx, logits, labels):
    xp = ctx.xp
    rows, classes = logits.shape
    bad = (labels < 0) | (labels >= classes)
    if bool(xp.any(bad)):
        first = int(labels[bad][0])
        raise errors.InvalidArgumentError(
            None, None, f"Received a label value of {first} which is outside the valid range of "
            f"[0, {classes}).  Label values: {' '.join(str(int(v)) for v in labels.tolist())}")
    log_probs = _log_probs(xp, logits)
    index = xp.arange(rows)
    loss = -log_probs[index, labels]
    backprop = xp.exp(log_probs)
    backprop[index, labels] -= 1  # backprop is a fresh array: updating it in place is safe
    return loss, backprop


register_op("SparseSoftmaxCrossEntropyWithLogits", shape=_sparse_xent_shape, kernel=_sparse_xent_kernel)


@register_gradient("SparseSoftmaxCrossEntropyWithLogits")
def _SparseSoftmaxCrossEntropyWithLogitsGrad(op, grad_loss, grad_backprop):
    """loss = -log_softmax(logits)[label]: d/dlogits = softmax(logits) - one_hot(label); labels: none."""
    grad_logits = _times_rows(grad_loss, op.outputs[1])
    if not _is_zeros(grad_backprop):
        grad_logits = grad_logits + _softmax_second_order(op.inputs[0], grad_backprop)
    return [grad_logits, None]


def sparse_softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None):
    """-log_softmax(logits)[labels]: labels are class indices (int32/int64), one rank below logits."""
    _require_named_arguments("sparse_softmax_cross_entropy_with_logits", _sentinel, labels, logits)
    with name_scope(name, "SparseSoftmaxCrossEntropyWithLogits"):
        labels = convert_to_tensor(labels, name="labels")
        logits = _float_input(logits, "logits", "SparseSoftmaxCrossEntropyWithLogits")
        if labels.dtype.base_dtype not in (dtypes.int32, dtypes.int64):
            raise errors.DTypeMismatchError(f"labels must be class indices of type int32 or int64, got "
                                            f"{labels.dtype.base_dtype.name}")
        lr, gr = labels.shape.ndims, logits.shape.ndims
        if lr is not None and gr is not None:
            if lr != gr - 1:
                raise ValueError(f"Rank mismatch: Rank of labels (received {lr}) should equal rank of "
                                 f"logits minus 1 (received {gr}).")
            if not labels.shape.is_compatible_with(logits.shape.as_list()[:-1]):
                raise ValueError(f"Shape mismatch: The shape of labels (received {labels.shape}) should "
                                 f"equal the shape of logits except for the last dimension (received "
                                 f"{logits.shape}).")
        if gr == 0:
            raise ValueError(f"Logits cannot be scalars - received shape {logits.shape}.")
        if gr == 2:
            loss, _ = apply_op("SparseSoftmaxCrossEntropyWithLogits", [logits, labels])
            return loss
        loss, _ = apply_op("SparseSoftmaxCrossEntropyWithLogits",
                           [_as_matrix(logits), array_ops.reshape(labels, [-1])])
        out = array_ops.reshape(loss, array_ops.shape(labels))
        out.set_shape(labels.shape)
        return out


def sigmoid_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None):
    """Elementwise -z log(sigmoid(x)) - (1 - z) log(1 - sigmoid(x)) for labels z and logits x.

    Computed stably as max(x, 0) - x z + log(1 + exp(-|x|)) = softplus(x) - x z.
    """
    _require_named_arguments("sigmoid_cross_entropy_with_logits", _sentinel, labels, logits)
    with name_scope(name, "logistic_loss") as scope:
        logits = _float_input(logits, "logits", "sigmoid_cross_entropy_with_logits")
        labels = convert_to_tensor(labels, dtype=logits.dtype.base_dtype, name="labels")
        if not logits.shape.is_compatible_with(labels.shape):
            raise ValueError(f"logits and labels must have the same shape ({logits.shape} vs {labels.shape})")
        return math_ops.subtract(softplus(logits), logits * labels, name=scope)
