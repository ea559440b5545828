"""Neural-network helpers: bias_add, xw_plus_b, l2_loss, l2_normalize, moments, in_top_k, dropout
and embedding_lookup (tf.nn.*).

Each op is one block: public wrapper, shape function, kernel (against `ctx.xp`), gradient; some are
built from other ops. Activations live in activation_ops.py, cross-entropy in xent_ops.py,
convolution and pooling in conv_ops.py.
"""

import numbers

import numpy as np

from tfcore.framework import dtypes
from tfcore.framework.common_shapes import check_same_dtype
from tfcore.framework.graph import apply_op, convert_to_tensor
from tfcore.framework.registry import NotDifferentiable, register_gradient, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.ops import (
    array_ops,
    binary_ops,
    comparison_ops,
    dimension_ops,
    elementwise_ops,
    gather_ops,
    math_ops,
    random_ops,
    reduction_ops,
)
from tfcore.ops.activation_ops import _float_input
from tfcore.ops.scopes import name_scope

# Public names; tfcore/nn.py exports them as tf.nn.<name>.
__all__ = [
    "bias_add",
    "xw_plus_b",
    "l2_loss",
    "l2_normalize",
    "moments",
    "in_top_k",
    "dropout",
    "embedding_lookup",
]


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


def _bias_add_kernel(ctx, value, bias, data_format):
    xp, out = ctx.xp, ctx.out
    if data_format == "NCHW":
        bias = bias.reshape((-1,) + (1,) * (value.ndim - 2))
    return xp.add(value, bias, out=out)


register_op("BiasAdd", shape=_bias_add_shape, kernel=_bias_add_kernel, reuses_inputs=(0,))


@register_gradient("BiasAdd")
def _BiasAddGrad(op, grad):
    """d(value + bias): the value gets the gradient; the bias its sum over all but the channel axis."""
    return [grad, apply_op("BiasAddGrad", [grad], {"data_format": op.get_attr("data_format")})]


def _bias_add_grad_shape(inputs, data_format):
    grad = inputs[0]
    rank = grad.shape.ndims
    channels = None if rank is None else grad.shape[_channel_axis(rank, data_format)].value
    return [(TensorShape([channels]), grad.dtype.base_dtype)]


def _bias_add_grad_kernel(ctx, grad, data_format):
    xp = ctx.xp
    if data_format != "NCHW" and grad.ndim > 2:
        # Channels last: sum over axis 1 first, whose rows are long contiguous runs, then over the
        # rest. NumPy's one-step sum over all leading axes walks the pixels one channel vector at a
        # time into a single running float32 total: 2-5x slower on NHWC images, and less accurate.
        grad = xp.sum(grad, axis=1)
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
            kernel=lambda ctx, t: ctx.xp.sum(t * t) / 2)


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
        square_sum = reduction_ops.reduce_sum(x * x, axis, keepdims=True)
        floor = np.asarray(epsilon, x.dtype.as_numpy_dtype)
        inv_norm = elementwise_ops.rsqrt(binary_ops.maximum(square_sum, floor))
        return math_ops.multiply(x, inv_norm, name=scope)


def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None):
    """(mean, variance) of `x` over `axes`; with keep_dims the reduced axes stay with size 1."""
    keep = bool(keep_dims if keepdims is None else keepdims)
    with name_scope(name, "moments"):
        x = convert_to_tensor(x, name="x")
        mean = reduction_ops.reduce_mean(x, axes, keepdims=True, name="mean")
        # NOTE: the mean is a constant for the variance's gradient, as in TF (its term sums to 0).
        deviation = x - array_ops.stop_gradient(mean)
        variance = reduction_ops.reduce_mean(deviation * deviation, axes, keepdims=True, name="variance")
        if not keep:
            mean = dimension_ops.squeeze(mean, axes)
            variance = dimension_ops.squeeze(variance, axes)
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


def _in_top_k_kernel(ctx, predictions, targets, k):
    xp = ctx.xp
    rows, classes = predictions.shape
    valid = (targets >= 0) & (targets < classes)
    target_score = predictions[xp.arange(rows), xp.where(valid, targets, 0)]
    higher = xp.sum(predictions > target_score[:, None], axis=1)
    finite = xp.all(xp.isfinite(predictions), axis=1)
    return valid & finite & (higher < k)


register_op("InTopKV2", shape=_in_top_k_shape, kernel=_in_top_k_kernel, host_memory=(2,))
NotDifferentiable("InTopKV2")


# ================================================================================================
# dropout and embedding_lookup (built from other ops)
# ================================================================================================


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """Keep each element with probability `keep_prob` (scaled by 1 / keep_prob), else zero it.

    TF1's signature; `rate` = 1 - keep_prob is accepted instead. The mask is drawn anew on every
    run from a uniform sample of `noise_shape` (default: x's shape; a 1 broadcasts the mask).
    """

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
        mask = math_ops.cast(comparison_ops.less(uniform, keep), dtype)
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
        return array_ops.identity(gather_ops.gather(params, ids, name=scope))
