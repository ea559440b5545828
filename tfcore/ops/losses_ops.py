"""`tf.losses`: loss functions that reduce with weights and add themselves to the LOSSES collection.

No new ops here: each loss is built from math and nn ops, the way TF1's `tf.losses` builds it, so
the values (and gradients) are TF's. As in TF, a loss is computed in float32 whatever the input
dtype, then cast back to it.
"""

from tfcore.framework import dtypes
from tfcore.framework.graph import GraphKeys, convert_to_tensor, get_default_graph
from tfcore.ops import (
    array_ops,
    binary_ops,
    comparison_ops,
    dimension_ops,
    elementwise_ops,
    math_ops,
    reduction_ops,
    xent_ops,
)
from tfcore.ops.constant_op import constant
from tfcore.ops.scopes import name_scope

# Public names; tfcore/losses.py exports them as tf.losses.<name>.
__all__ = [
    "Reduction",
    "compute_weighted_loss",
    "mean_squared_error",
    "absolute_difference",
    "huber_loss",
    "log_loss",
    "softmax_cross_entropy",
    "sparse_softmax_cross_entropy",
    "sigmoid_cross_entropy",
    "add_loss",
    "get_losses",
    "get_regularization_losses",
    "get_regularization_loss",
    "get_total_loss",
]


class Reduction:
    """How a weighted loss tensor is reduced to what the loss function returns."""

    NONE = "none"  # the weighted losses, unreduced
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"  # divided by the number of elements
    MEAN = "weighted_mean"  # divided by the sum of the weights
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"  # divided by the count of nonzero weights
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls):
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE, cls.SUM_OVER_NONZERO_WEIGHTS,
                cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key):
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key}. Key should be one of {cls.all()}.")


# ================================================================================================
# Weighting and reduction
# ================================================================================================


def _check_broadcastable(weights, losses):
    """Weights must be a scalar or have the losses' rank with each dimension 1 or equal."""
    w, v = weights.shape, losses.shape
    if w.ndims in (None, 0) or v.ndims is None:
        return
    if w.ndims != v.ndims:
        raise ValueError(f"weights can not be broadcast to values. values.rank={v.ndims}. "
                         f"weights.rank={w.ndims}. values.shape={v}. weights.shape={w}.")
    for a, b in zip(w.as_list(), v.as_list()):
        if a not in (None, 1) and b is not None and a != b:
            raise ValueError(f"weights can not be broadcast to values. values.shape={v}. weights.shape={w}.")


def _safe_divide(total, count):
    """total / count, and 0 where count is 0 (without a NaN in the gradient)."""
    is_zero = comparison_ops.equal(count, 0.0)
    safe_count = comparison_ops.where(is_zero, array_ops.ones_like(count), count)
    return comparison_ops.where(is_zero, array_ops.zeros_like(total), math_ops.real_div(total, safe_count),
                           name="value")


def _num_present(losses, weights):
    """The number of loss elements with a nonzero weight (weights broadcast to the losses' shape)."""
    with name_scope(None, "num_present"):
        present = comparison_ops.where(comparison_ops.equal(weights, 0.0), array_ops.zeros_like(weights),
                                  array_ops.ones_like(weights))
        return reduction_ops.reduce_sum(present * array_ops.ones_like(losses))


def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """losses * weights, reduced as `reduction` says, added to `loss_collection`.

    The default divides the weighted sum by the number of nonzero weights (TF1's default).
    """
    Reduction.validate(reduction)
    with name_scope(scope, "weighted_loss"):
        losses = convert_to_tensor(losses)
        input_dtype = losses.dtype.base_dtype
        losses = math_ops.cast(losses, dtypes.float32)
        weights = math_ops.cast(convert_to_tensor(weights, dtype=None), dtypes.float32)
        _check_broadcastable(weights, losses)
        weighted = math_ops.multiply(losses, weights)
        if reduction == Reduction.NONE:
            loss = weighted
        else:
            loss = reduction_ops.reduce_sum(weighted)
            if reduction == Reduction.MEAN:
                loss = _safe_divide(loss, reduction_ops.reduce_sum(array_ops.ones_like(losses) * weights))
            elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
                loss = _safe_divide(loss, _num_present(losses, weights))
            elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
                loss = _safe_divide(loss, math_ops.cast(array_ops.size(losses), dtypes.float32))
        loss = math_ops.cast(loss, input_dtype)
        add_loss(loss, loss_collection)
        return loss


def _check_args(labels, predictions, labels_name="labels", predictions_name="predictions"):
    if labels is None:
        raise ValueError(f"Argument `{labels_name}` must not be None.")
    if predictions is None:
        raise ValueError(f"Argument `{predictions_name}` must not be None.")


def _same_shape(a, b):
    a.get_shape().assert_is_compatible_with(b.get_shape())


# ================================================================================================
# Regression losses
# ================================================================================================


def mean_squared_error(labels, predictions, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                       reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Weighted (predictions - labels)^2, reduced (by default: its mean over nonzero weights)."""
    return _error_loss("mean_squared_error", elementwise_ops.square, labels, predictions, weights, scope,
                       loss_collection, reduction)


def absolute_difference(labels, predictions, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                        reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Weighted |predictions - labels|, reduced."""
    return _error_loss("absolute_difference", elementwise_ops.abs, labels, predictions, weights, scope,
                       loss_collection, reduction)


def _error_loss(default_name, penalty, labels, predictions, weights, scope, loss_collection, reduction):
    """penalty(predictions - labels) elementwise, weighted and reduced (the regression losses)."""
    _check_args(labels, predictions)
    with name_scope(scope, default_name) as scope:  # the reduction below re-enters it
        predictions = math_ops.cast(convert_to_tensor(predictions), dtypes.float32)
        labels = math_ops.cast(convert_to_tensor(labels), dtypes.float32)
        _same_shape(predictions, labels)
        losses = penalty(math_ops.subtract(predictions, labels))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def huber_loss(labels, predictions, weights=1.0, delta=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
               reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Quadratic (e^2 / 2) for errors |e| <= delta, linear (delta (|e| - delta / 2)) beyond."""
    _check_args(labels, predictions)
    with name_scope(scope, "huber_loss") as scope:  # the reduction below re-enters it
        predictions = math_ops.cast(convert_to_tensor(predictions), dtypes.float32)
        labels = math_ops.cast(convert_to_tensor(labels), dtypes.float32)
        _same_shape(predictions, labels)
        abs_error = elementwise_ops.abs(math_ops.subtract(predictions, labels))
        quadratic = binary_ops.minimum(abs_error, delta)
        linear = math_ops.subtract(abs_error, quadratic)  # the part of |e| beyond delta
        losses = 0.5 * quadratic * quadratic + delta * linear
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def log_loss(labels, predictions, weights=1.0, epsilon=1e-7, scope=None, loss_collection=GraphKeys.LOSSES,
             reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Binary cross-entropy of probabilities: -z log(p + eps) - (1 - z) log(1 - p + eps)."""
    _check_args(labels, predictions)
    with name_scope(scope, "log_loss") as scope:  # the reduction below re-enters it
        predictions = math_ops.cast(convert_to_tensor(predictions), dtypes.float32)
        labels = math_ops.cast(convert_to_tensor(labels), dtypes.float32)
        _same_shape(predictions, labels)
        losses = -labels * elementwise_ops.log(predictions + epsilon) - \
            (1.0 - labels) * elementwise_ops.log(1.0 - predictions + epsilon)
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


# ================================================================================================
# Classification losses (on logits)
# ================================================================================================


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=GraphKeys.LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Softmax cross-entropy of `logits` [N, C] against one-hot labels, weighted per example.

    label_smoothing s > 0 moves the labels toward uniform: z * (1 - s) + s / C.
    """
    _check_args(onehot_labels, logits, "onehot_labels", "logits")
    with name_scope(scope, "softmax_cross_entropy_loss") as scope:  # the reduction below re-enters it
        logits = convert_to_tensor(logits, name="logits")
        labels = convert_to_tensor(onehot_labels, name="onehot_labels")
        labels = math_ops.cast(labels, logits.dtype.base_dtype)
        _same_shape(logits, labels)
        if label_smoothing > 0:
            classes = math_ops.cast(array_ops.shape(labels)[-1], logits.dtype.base_dtype)
            labels = labels * (1 - label_smoothing) + label_smoothing / classes
        labels = array_ops.stop_gradient(labels, name="labels_stop_gradient")
        losses = xent_ops.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def _squeeze_last(t, when_rank):
    """Drop a trailing dimension of size 1 when `t` has rank `when_rank` (labels given as [N, 1])."""
    shape = t.get_shape()
    if shape.ndims == when_rank and shape.ndims > 0 and shape[-1].value in (None, 1):
        return dimension_ops.squeeze(t, [-1])
    return t


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                                 reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Softmax cross-entropy of `logits` [N, C] against class indices `labels` [N] (or [N, 1])."""
    _check_args(labels, logits, "labels", "logits")
    with name_scope(scope, "sparse_softmax_cross_entropy_loss") as scope:  # the reduction below re-enters it
        labels = convert_to_tensor(labels, name="labels")
        logits = convert_to_tensor(logits, name="logits")
        weights = convert_to_tensor(weights, dtype=None, name="weights")
        if logits.shape.ndims is not None:
            labels = _squeeze_last(labels, logits.shape.ndims)
            weights = _squeeze_last(weights, logits.shape.ndims)
        losses = xent_ops.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits,
                                                                 name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def sigmoid_cross_entropy(multi_class_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=GraphKeys.LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Elementwise sigmoid cross-entropy; label_smoothing s moves labels toward 1/2: z (1 - s) + s / 2."""
    _check_args(multi_class_labels, logits, "multi_class_labels", "logits")
    with name_scope(scope, "sigmoid_cross_entropy_loss") as scope:  # the reduction below re-enters it
        logits = convert_to_tensor(logits, name="logits")
        labels = math_ops.cast(convert_to_tensor(multi_class_labels), logits.dtype.base_dtype)
        _same_shape(logits, labels)
        if label_smoothing > 0:
            labels = labels * (1 - label_smoothing) + 0.5 * label_smoothing
        losses = xent_ops.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


# ================================================================================================
# The losses collection
# ================================================================================================


def add_loss(loss, loss_collection=GraphKeys.LOSSES):
    """Add `loss` to `loss_collection` (None: add it nowhere)."""
    if loss_collection:
        get_default_graph().add_to_collection(loss_collection, loss)


def get_losses(scope=None, loss_collection=GraphKeys.LOSSES):
    """The losses in `loss_collection` (only those whose name matches `scope`, when given)."""
    return get_default_graph().get_collection(loss_collection, scope)


def get_regularization_losses(scope=None):
    """The REGULARIZATION_LOSSES collection (get_variable adds each regularizer's result there)."""
    return get_default_graph().get_collection(GraphKeys.REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope=None, name="total_regularization_loss"):
    """The sum of the regularization losses, or a constant 0.0 when there are none."""
    losses = get_regularization_losses(scope)
    if losses:
        return math_ops.add_n(losses, name=name)
    return constant(0.0)


def get_total_loss(add_regularization_losses=True, name="total_loss", scope=None):
    """The sum of every loss in LOSSES (and, by default, of every regularization loss)."""
    losses = get_losses(scope=scope)
    if add_regularization_losses:
        losses = losses + get_regularization_losses(scope=scope)
    return math_ops.add_n(losses, name=name)
