"""Neural-network ops: activations, softmax, cross-entropy on logits, and a few helpers around them.

Each op is one block: public wrapper, shape function, kernel (against `xp`), gradient. Piecewise
activations get a gradient op of their own (`ReluGrad`, `EluGrad`, ...) as in TensorFlow, so
their derivatives are one fused kernel and can themselves be differentiated. Convolution and
pooling live in conv_ops.py. `sigmoid` and `tanh` are math ops; `tf.nn` re-exports them.
"""

import numbers

import numpy as np

from tfcore.framework import dtypes, errors
from tfcore.framework.common_shapes import check_same_dtype, normalize_axis, unchanged
from tfcore.framework.graph import apply_op, convert_to_tensor
from tfcore.framework.registry import NotDifferentiable, register_gradient, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.ops import array_ops, math_ops
from tfcore.ops.scopes import name_scope

# Public names; tfcore/nn.py exports them as tf.nn.<name> (TF1 has no top-level tf.relu etc.).
__all__ = [
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "softplus",
    "softsign",
    "softmax",
    "log_softmax",
    "softmax_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits_v2",
    "sparse_softmax_cross_entropy_with_logits",
    "sigmoid_cross_entropy_with_logits",
    "bias_add",
    "xw_plus_b",
    "l2_loss",
    "l2_normalize",
    "moments",
    "in_top_k",
    "dropout",
    "embedding_lookup",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _float_input(value, name, op_type):
    """`value` as a floating-point tensor; a ValueError naming the op otherwise."""
    t = convert_to_tensor(value, name=name)
    if not t.dtype.base_dtype.is_floating:
        raise ValueError(f"{op_type} needs a floating-point input, got {t.dtype.base_dtype.name} ({t.name})")
    return t


def _same_shape_two(inputs, **attrs):
    """Shape function of the `*Grad` ops: (gradient, x) of one shape; the result has it too."""
    dtype = check_same_dtype(inputs)
    a, b = inputs[0].shape, inputs[1].shape
    if not a.is_compatible_with(b):
        raise ValueError(f"Shapes {a} and {b} are incompatible")
    return [(a.merge_with(b), dtype)]


def _stable_sigmoid(xp, x):
    """1 / (1 + exp(-x)) without overflow: exp is only ever taken of -|x|."""
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1, e) / (1 + e)


# ================================================================================================
# Relu, Relu6, LeakyRelu: piecewise linear
# ================================================================================================


def relu(features, name=None):
    """max(features, 0)."""
    return apply_op("Relu", [convert_to_tensor(features, name="features")], name=name)


register_op("Relu", shape=unchanged, kernel=lambda xp, x: xp.maximum(x, 0))


@register_gradient("Relu")
def _ReluGrad(op, grad):
    """d relu(x)/dx = 1 where the output is positive, else 0 (NOTE: 0 at x = 0, as in TF)."""
    return [apply_op("ReluGrad", [grad, op.outputs[0]])]


register_op("ReluGrad", shape=_same_shape_two, kernel=lambda xp, grad, x: grad * (x > 0))


@register_gradient("ReluGrad")
def _ReluGradGrad(op, grad):
    """ReluGrad(g, x) = g * [x > 0] is linear in g; its mask is flat in x (a zero gradient)."""
    return [apply_op("ReluGrad", [grad, op.inputs[1]]), array_ops.zeros_like(op.inputs[1])]


def relu6(features, name=None):
    """min(max(features, 0), 6)."""
    return apply_op("Relu6", [convert_to_tensor(features, name="features")], name=name)


register_op("Relu6", shape=unchanged, kernel=lambda xp, x: xp.minimum(xp.maximum(x, 0), 6))


@register_gradient("Relu6")
def _Relu6Grad(op, grad):
    """1 where 0 < x < 6, else 0 (tested on the output, which is inside (0, 6) exactly there)."""
    return [apply_op("Relu6Grad", [grad, op.outputs[0]])]


register_op("Relu6Grad", shape=_same_shape_two,
            kernel=lambda xp, grad, x: grad * ((x > 0) & (x < 6)))


@register_gradient("Relu6Grad")
def _Relu6GradGrad(op, grad):
    """Linear in the incoming gradient, flat in x (a zero gradient)."""
    return [apply_op("Relu6Grad", [grad, op.inputs[1]]), array_ops.zeros_like(op.inputs[1])]


def leaky_relu(features, alpha=0.2, name=None):
    """x where x > 0, else alpha * x."""
    features = convert_to_tensor(features, name="features")
    if features.dtype.base_dtype.is_integer:
        features = math_ops.cast(features, dtypes.float32)
    return apply_op("LeakyRelu", [features], {"alpha": float(alpha)}, name=name)


register_op("LeakyRelu", shape=unchanged,
            kernel=lambda xp, x, alpha: xp.where(x > 0, x, x * alpha))


@register_gradient("LeakyRelu")
def _LeakyReluGrad(op, grad):
    """1 where x > 0, else alpha."""
    return [apply_op("LeakyReluGrad", [grad, op.inputs[0]], {"alpha": op.get_attr("alpha")})]


register_op("LeakyReluGrad", shape=_same_shape_two,
            kernel=lambda xp, grad, x, alpha: xp.where(x > 0, grad, grad * alpha))


@register_gradient("LeakyReluGrad")
def _LeakyReluGradGrad(op, grad):
    """Linear in the incoming gradient, flat in x (a zero gradient)."""
    x = op.inputs[1]
    return [apply_op("LeakyReluGrad", [grad, x], {"alpha": op.get_attr("alpha")}), array_ops.zeros_like(x)]


# ================================================================================================
# Elu and Selu: exponential below zero
# ================================================================================================


def elu(features, name=None):
    """x where x > 0, else exp(x) - 1."""
    return apply_op("Elu", [_float_input(features, "features", "Elu")], name=name)


def _elu_kernel(xp, x):
    return xp.where(x > 0, x, xp.expm1(xp.minimum(x, 0)))  # minimum: no overflow in the unused branch


register_op("Elu", shape=unchanged, kernel=_elu_kernel)


@register_gradient("Elu")
def _EluGrad(op, grad):
    """1 where x > 0, else exp(x) = y + 1 (written with the output y)."""
    return [apply_op("EluGrad", [grad, op.outputs[0]])]


register_op("EluGrad", shape=_same_shape_two,
            kernel=lambda xp, grad, y: xp.where(y < 0, grad * (y + 1), grad))


@register_gradient("EluGrad")
def _EluGradGrad(op, grad):
    """EluGrad(g, y) = g (y + 1) for y < 0: linear in g, and d/dy = g where y < 0."""
    g, y = op.inputs
    return [apply_op("EluGrad", [grad, y]), _where_negative(y, grad * g)]


def _where_negative(y, value):
    """`value` where y < 0, else 0 (the second-derivative terms of Elu and Selu)."""
    return math_ops.where(math_ops.less(y, array_ops.zeros_like(y)), value, array_ops.zeros_like(value))


def selu(features, name=None):
    """scale * x where x > 0, else scale * alpha * (exp(x) - 1), with Klambauer et al.'s constants."""
    return apply_op("Selu", [_float_input(features, "features", "Selu")], name=name)


def _selu_kernel(xp, x):
    return _SELU_SCALE * xp.where(x > 0, x, _SELU_ALPHA * xp.expm1(xp.minimum(x, 0)))


register_op("Selu", shape=unchanged, kernel=_selu_kernel)


@register_gradient("Selu")
def _SeluGrad(op, grad):
    """scale where x > 0, else scale * alpha * exp(x) = y + scale * alpha."""
    return [apply_op("SeluGrad", [grad, op.outputs[0]])]


register_op("SeluGrad", shape=_same_shape_two,
            kernel=lambda xp, grad, y: xp.where(y < 0, grad * (y + _SELU_SCALE * _SELU_ALPHA),
                                                 grad * _SELU_SCALE))


@register_gradient("SeluGrad")
def _SeluGradGrad(op, grad):
    """Linear in g; d/dy = g where y < 0."""
    g, y = op.inputs
    return [apply_op("SeluGrad", [grad, y]), _where_negative(y, grad * g)]


# ================================================================================================
# Softplus and Softsign: smooth
# ================================================================================================


def softplus(features, name=None):
    """log(1 + exp(x)), computed stably as max(x, 0) + log(1 + exp(-|x|))."""
    return apply_op("Softplus", [_float_input(features, "features", "Softplus")], name=name)


register_op("Softplus", shape=unchanged,
            kernel=lambda xp, x: xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x))))


@register_gradient("Softplus")
def _SoftplusGrad(op, grad):
    """d softplus(x)/dx = sigmoid(x) (one fused kernel: SoftplusGrad)."""
    return [apply_op("SoftplusGrad", [grad, op.inputs[0]])]


register_op("SoftplusGrad", shape=_same_shape_two,
            kernel=lambda xp, grad, x: grad * _stable_sigmoid(xp, x))


@register_gradient("SoftplusGrad")
def _SoftplusGradGrad(op, grad):
    """SoftplusGrad(g, x) = g sigmoid(x): linear in g; d/dx = g sigmoid(x) (1 - sigmoid(x))."""
    g, x = op.inputs
    s = math_ops.sigmoid(x)
    return [apply_op("SoftplusGrad", [grad, x]), grad * g * s * (1.0 - s)]


def softsign(features, name=None):
    """x / (1 + |x|)."""
    return apply_op("Softsign", [_float_input(features, "features", "Softsign")], name=name)


register_op("Softsign", shape=unchanged, kernel=lambda xp, x: x / (1 + xp.abs(x)))


@register_gradient("Softsign")
def _SoftsignGrad(op, grad):
    """d softsign(x)/dx = 1 / (1 + |x|)^2."""
    return [apply_op("SoftsignGrad", [grad, op.inputs[0]])]


register_op("SoftsignGrad", shape=_same_shape_two,
            kernel=lambda xp, grad, x: grad / xp.square(1 + xp.abs(x)))
# NOTE: SoftsignGrad has no gradient, as in TF (a second derivative of softsign raises LookupError).


# ================================================================================================
# Softmax and LogSoftmax (numerically stable: the max is subtracted before exp)
# ================================================================================================


def _softmax_axis(axis, dim):
    if dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'dim'")
        axis = dim
    return -1 if axis is None else int(axis)


def _softmax_shape(inputs, axis):
    x = inputs[0]
    if not x.dtype.base_dtype.is_floating:
        raise ValueError(f"Softmax needs floating-point logits, got {x.dtype.base_dtype.name}")
    if x.shape.ndims == 0:
        raise ValueError("Shape must be at least rank 1 but is rank 0")
    normalize_axis(axis, x.shape.ndims)
    return [(x.shape, x.dtype.base_dtype)]


def softmax(logits, axis=None, name=None, dim=None):
    """exp(x) / sum(exp(x)) along `axis` (default the last); `dim` is the old name of `axis`."""
    logits = convert_to_tensor(logits, name="logits")
    return apply_op("Softmax", [logits], {"axis": _softmax_axis(axis, dim)}, name=name)


def _softmax_kernel(xp, x, axis):
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


register_op("Softmax", shape=_softmax_shape, kernel=_softmax_kernel)


@register_gradient("Softmax")
def _SoftmaxGrad(op, grad):
    """For y = softmax(x): dx = (dy - sum(dy * y)) * y (the Jacobian is diag(y) - y y^T)."""
    y = op.outputs[0]
    axis = op.get_attr("axis")
    return [(grad - math_ops.reduce_sum(grad * y, axis, keepdims=True)) * y]


def log_softmax(logits, axis=None, name=None, dim=None):
    """x - log(sum(exp(x))) along `axis`, without overflow for large logits."""
    logits = convert_to_tensor(logits, name="logits")
    return apply_op("LogSoftmax", [logits], {"axis": _softmax_axis(axis, dim)}, name=name)


def _log_softmax_kernel(xp, x, axis):
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


register_op("LogSoftmax", shape=_softmax_shape, kernel=_log_softmax_kernel)


@register_gradient("LogSoftmax")
def _LogSoftmaxGrad(op, grad):
    """For y = log_softmax(x): dx = dy - sum(dy) * softmax(x)."""
    axis = op.get_attr("axis")
    probs = softmax(op.inputs[0], axis=axis)
    return [grad - math_ops.reduce_sum(grad, axis, keepdims=True) * probs]


# ================================================================================================
# Cross-entropy on logits: fused ops with a stable kernel and the gradient softmax - labels
# ================================================================================================


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


def _softmax_xent_kernel(xp, logits, labels):
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
    return (grad_backprop - math_ops.reduce_sum(grad_backprop * probs, 1, keepdims=True)) * probs


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
    return array_ops.transpose(t, perm)


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
    if _sentinel is not None:
        raise ValueError("Only call softmax_cross_entropy_with_logits with named arguments "
                         "(labels=..., logits=..., ...).")
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided.")
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


def _sparse_xent_kernel(xp, logits, labels):
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
    if _sentinel is not None:
        raise ValueError("Only call sparse_softmax_cross_entropy_with_logits with named arguments "
                         "(labels=..., logits=..., ...).")
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided.")
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
    if _sentinel is not None:
        raise ValueError("Only call sigmoid_cross_entropy_with_logits with named arguments "
                         "(labels=..., logits=..., ...).")
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided.")
    with name_scope(name, "logistic_loss") as scope:
        logits = _float_input(logits, "logits", "sigmoid_cross_entropy_with_logits")
        labels = convert_to_tensor(labels, dtype=logits.dtype.base_dtype, name="labels")
        if not logits.shape.is_compatible_with(labels.shape):
            raise ValueError(f"logits and labels must have the same shape ({logits.shape} vs {labels.shape})")
        return math_ops.subtract(softplus(logits), logits * labels, name=scope)


# ================================================================================================
# BiasAdd
# ================================================================================================


def bias_add(value, bias, data_format=None, name=None):
    """value + bias, with the 1-D bias added along the channel axis (last for NHWC, 1 for NCHW)."""
    with name_scope(name, "BiasAdd") as scope:
        value = convert_to_tensor(value, name="input")
        bias = convert_to_tensor(bias, dtype=value.dtype.base_dtype, name="bias")
        return apply_op("BiasAdd", [value, bias], {"data_format": _data_format(data_format)}, name=scope)


def _data_format(data_format):
    data_format = "NHWC" if data_format is None else data_format
    if data_format not in ("NHWC", "NCHW", "N...C", "NC..."):
        raise ValueError(f"data_format must be NHWC or NCHW, got {data_format!r}")
    return "NCHW" if data_format.startswith("NC") else "NHWC"


def _channel_axis(rank, data_format):
    return 1 if data_format == "NCHW" else rank - 1


def _bias_add_shape(inputs, data_format):
    value, bias = inputs
    dtype = check_same_dtype(inputs)
    if bias.shape.ndims not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {bias.shape.ndims}")
    rank = value.shape.ndims
    if rank is not None:
        if rank < 2:
            raise ValueError(f"Shape must be at least rank 2 but is rank {rank}")
        channels = value.shape[_channel_axis(rank, data_format)].value
        if bias.shape.ndims == 1 and channels is not None and bias.shape[0].value not in (None, channels):
            raise ValueError(f"Dimensions must be equal, but are {channels} and {bias.shape[0].value}")
    return [(value.shape, dtype)]


def _bias_add_kernel(xp, value, bias, data_format):
    if data_format == "NCHW":
        return value + bias.reshape((-1,) + (1,) * (value.ndim - 2))
    return value + bias


register_op("BiasAdd", shape=_bias_add_shape, kernel=_bias_add_kernel)


@register_gradient("BiasAdd")
def _BiasAddGrad(op, grad):
    """d(value + bias): the value gets the gradient; the bias its sum over all but the channel axis."""
    return [grad, apply_op("BiasAddGrad", [grad], {"data_format": op.get_attr("data_format")})]


def _bias_add_grad_shape(inputs, data_format):
    grad = inputs[0]
    rank = grad.shape.ndims
    channels = None if rank is None else grad.shape[_channel_axis(rank, data_format)].value
    return [(TensorShape([channels]), grad.dtype.base_dtype)]


def _bias_add_grad_kernel(xp, grad, data_format):
    channel = _channel_axis(grad.ndim, data_format)
    return xp.sum(grad, axis=tuple(i for i in range(grad.ndim) if i != channel))


register_op("BiasAddGrad", shape=_bias_add_grad_shape, kernel=_bias_add_grad_kernel)


@register_gradient("BiasAddGrad")
def _BiasAddGradGrad(op, grad):
    """The adjoint of summing over all but the channel axis: broadcasting back along them."""
    value = op.inputs[0]
    if op.get_attr("data_format") == "NCHW":
        if value.shape.ndims is None:
            raise ValueError("The gradient of BiasAddGrad (NCHW) needs the input rank")
        grad = array_ops.reshape(grad, [-1] + [1] * (value.shape.ndims - 2))
    return [array_ops.broadcast_to(grad, array_ops.shape(value))]


def xw_plus_b(x, weights, biases, name=None):
    """matmul(x, weights) + biases."""
    with name_scope(name, "xw_plus_b") as scope:
        x = convert_to_tensor(x, name="x")
        weights = convert_to_tensor(weights, name="weights")
        biases = convert_to_tensor(biases, name="biases")
        return bias_add(math_ops.matmul(x, weights), biases, name=scope)


# ================================================================================================
# L2Loss, l2_normalize, moments
# ================================================================================================


def l2_loss(t, name=None):
    """sum(t ** 2) / 2 (a scalar; weight decay's usual form)."""
    return apply_op("L2Loss", [_float_input(t, "t", "L2Loss")], name=name)


register_op("L2Loss", shape=lambda inputs: [(TensorShape([]), inputs[0].dtype.base_dtype)],
            kernel=lambda xp, t: xp.sum(t * t) / 2)


@register_gradient("L2Loss")
def _L2LossGrad(op, grad):
    """d(sum(t^2)/2)/dt = t."""
    return [op.inputs[0] * grad]


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """x / sqrt(max(sum(x ** 2, axis), epsilon))."""
    if dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'dim'")
        axis = dim
    with name_scope(name, "l2_normalize") as scope:
        x = convert_to_tensor(x, name="x")
        square_sum = math_ops.reduce_sum(x * x, axis, keepdims=True)
        inv_norm = math_ops.rsqrt(math_ops.maximum(square_sum, np.asarray(epsilon, x.dtype.as_numpy_dtype)))
        return math_ops.multiply(x, inv_norm, name=scope)


def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None):
    """(mean, variance) of `x` over `axes`; with keep_dims the reduced axes stay with size 1."""
    keep = bool(keep_dims if keepdims is None else keepdims)
    with name_scope(name, "moments"):
        x = convert_to_tensor(x, name="x")
        mean = math_ops.reduce_mean(x, axes, keepdims=True, name="mean")
        # NOTE: the mean is a constant for the variance's gradient, as in TF (its term sums to 0).
        deviation = x - array_ops.stop_gradient(mean)
        variance = math_ops.reduce_mean(deviation * deviation, axes, keepdims=True, name="variance")
        if not keep:
            mean = array_ops.squeeze(mean, axes)
            variance = array_ops.squeeze(variance, axes)
        return mean, variance


# ================================================================================================
# InTopK
# ================================================================================================


def in_top_k(predictions, targets, k, name=None):
    """Whether each target class is among the k largest predictions of its row.

    NOTE: ties count in the target's favour (TF's rule): it is in the top k when fewer than k
    classes score strictly higher; a row with a non-finite score, or a target out of range, is False.
    """
    with name_scope(name, "in_top_k"):
        predictions = _float_input(predictions, "predictions", "InTopKV2")
        targets = convert_to_tensor(targets, name="targets")
        k = convert_to_tensor(k, dtype=targets.dtype.base_dtype, name="k")
        return apply_op("InTopKV2", [predictions, targets, k])


def _in_top_k_shape(inputs):
    predictions, targets, k = inputs
    if targets.dtype.base_dtype not in (dtypes.int32, dtypes.int64):
        raise ValueError(f"targets must be int32 or int64, got {targets.dtype.base_dtype.name}")
    if predictions.shape.ndims not in (None, 2) or targets.shape.ndims not in (None, 1):
        raise ValueError("predictions must be 2-D and targets 1-D")
    if k.shape.ndims not in (None, 0):
        raise ValueError(f"k must be a scalar, got shape {k.shape}")
    batch = predictions.shape[0].merge_with(targets.shape[0]).value
    return [(TensorShape([batch]), dtypes.bool)]


def _in_top_k_kernel(xp, predictions, targets, k):
    rows, classes = predictions.shape
    valid = (targets >= 0) & (targets < classes)
    target_score = predictions[xp.arange(rows), xp.where(valid, targets, 0)]
    higher = xp.sum(predictions > target_score[:, None], axis=1)
    finite = xp.all(xp.isfinite(predictions), axis=1)
    return valid & finite & (higher < k)


register_op("InTopKV2", shape=_in_top_k_shape, kernel=_in_top_k_kernel)
NotDifferentiable("InTopKV2")


# ================================================================================================
# dropout and embedding_lookup (built from other ops)
# ================================================================================================


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """Keep each element with probability `keep_prob` (scaled by 1 / keep_prob), else zero it.

    TF1's signature; `rate` = 1 - keep_prob is accepted instead. The mask is drawn anew on every
    run from a uniform sample of `noise_shape` (default: x's shape; a 1 broadcasts the mask).
    """
    from tfcore.ops import random_ops

    if (keep_prob is None) == (rate is None):
        raise ValueError("Specify exactly one of keep_prob and rate")
    with name_scope(name, "dropout") as scope:
        x = convert_to_tensor(x, name="x")
        dtype = x.dtype.base_dtype
        if not dtype.is_floating:
            raise ValueError(f"x has to be a floating point tensor since it's going to be scaled. Got a "
                             f"{dtype.name} tensor instead.")
        if rate is not None and not isinstance(rate, numbers.Real):  # a rate tensor
            keep = math_ops.subtract(np.asarray(1, dtype.as_numpy_dtype), math_ops.cast(rate, dtype),
                                     name="keep_prob")
        elif keep_prob is not None and not isinstance(keep_prob, numbers.Real):  # e.g. a fed placeholder
            keep = math_ops.cast(convert_to_tensor(keep_prob, name="keep_prob"), dtype)
        else:
            keep_value = keep_prob if keep_prob is not None else 1 - rate
            if not 0 < keep_value <= 1:
                raise ValueError(f"keep_prob must be in (0, 1] (rate in [0, 1)), got keep_prob={keep_value}")
            if keep_value == 1:
                return x  # nothing is dropped: TF returns the input itself
            keep = convert_to_tensor(np.asarray(keep_value, dtype.as_numpy_dtype), name="keep_prob")
        if keep.shape.ndims not in (None, 0):
            raise ValueError(f"keep_prob must be a scalar, got shape {keep.shape}")
        shape = array_ops.shape(x) if noise_shape is None else noise_shape
        uniform = random_ops.random_uniform(shape, seed=seed, dtype=dtype)
        # u in [0, 1) is kept when u < keep_prob: with probability keep_prob.
        mask = math_ops.cast(math_ops.less(uniform, keep), dtype)
        out = math_ops.multiply(math_ops.real_div(x, keep), mask, name=scope)
        out.set_shape(x.shape)
        return out


def embedding_lookup(params, ids, partition_strategy="mod", name=None, validate_indices=True,
                     max_norm=None):
    """The rows `params[ids]` (a gather along axis 0); `params` may be a tensor or a list of one."""
    if isinstance(params, list | tuple):
        if len(params) != 1:
            raise NotImplementedError("tfcore's embedding_lookup takes a single params tensor "
                                      f"(got a list of {len(params)} shards)")
        params = params[0]
    if max_norm is not None:
        raise NotImplementedError("embedding_lookup(max_norm=...) is not supported by tfcore")
    with name_scope(name, "embedding_lookup") as scope:
        params = convert_to_tensor(params, name="params")
        ids = convert_to_tensor(ids, name="ids")
        return array_ops.identity(array_ops.gather(params, ids, name=scope))

