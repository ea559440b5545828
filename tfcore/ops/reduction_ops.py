"""Reductions over axes: sum, mean, max, min, prod, all, any, and logsumexp built from them.
The one-axis ops are beside this file: argmax/argmin in argmax_ops.py, the running reductions
cumsum/cumprod in cumulative_ops.py.

Each op is one block: public wrapper, shape function, kernel (against `ctx.xp`), gradient. Reduction
axes are attrs, known when the graph is built; a gradient reshapes the incoming gradient so that
it broadcasts back over the reduced axes (`_keepdims_grad`).
"""

import numpy as np

from tfcore.framework import dtypes
from tfcore.framework.constant_folding import constant_value, fold_by_kernel
from tfcore.framework.graph import Tensor, apply_op, convert_to_tensor, get_default_graph
from tfcore.framework.registry import NotDifferentiable, register_gradient, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.ops.array_ops import _shape_of, broadcast_to, reshape, shape, size, stop_gradient, zeros_like
from tfcore.ops.comparison_ops import equal, where
from tfcore.ops.cumulative_ops import cumprod
from tfcore.ops.elementwise_ops import exp, is_finite, log
from tfcore.ops.math_ops import _require_dtypes, add, cast, multiply, real_div, subtract

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = [
    "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_all", "reduce_any",
    "reduce_logsumexp",
]


# ================================================================================================
# Reductions: Sum and Mean (the others follow the same pattern)
# ================================================================================================


def _reduction_axis(x, axis, reduction_indices):
    """A sorted tuple of axes (None = all), from ints, lists or constant tensors; negative axes
    count from the end, and are made non-negative where the rank is known."""
    if axis is None:
        axis = reduction_indices
    if axis is None:
        return None
    if isinstance(axis, Tensor):
        value = constant_value(axis)
        if value is None:
            raise ValueError("tfcore needs the reduction axis known when the graph is built "
                             f"(got the computed tensor {axis.name}).")
        axis = value
    axes = [int(a) for a in np.reshape(np.asarray(axis), [-1])]
    rank = x.shape.ndims
    if rank is not None:
        for a in axes:
            if not -rank <= a < rank:
                raise ValueError(f"Invalid reduction dimension {a} for input with {rank} dimensions")
        axes = [a % rank for a in axes]
    return tuple(sorted(set(axes)))


def _reduced_shape(inputs, axis, keepdims):
    x = inputs[0]
    if x.shape.ndims is None:  # NOTE: as in TF, reducing all axes gives a scalar whatever the rank
        return TensorShape([] if axis is None and not keepdims else None)
    dims = x.shape.as_list()
    axes = range(len(dims)) if axis is None else axis
    if keepdims:
        return TensorShape([1 if i in axes else d for i, d in enumerate(dims)])
    return TensorShape([d for i, d in enumerate(dims) if i not in axes])


def _reduction_shape(inputs, axis, keepdims):
    return [(_reduced_shape(inputs, axis, keepdims), inputs[0].dtype.base_dtype)]


def reduction(op_type, input_tensor, axis, keepdims, name, reduction_indices, keep_dims):
    """Build reduction `op_type` with TF's argument conventions (old names included)."""
    x = convert_to_tensor(input_tensor)
    keepdims = bool(keep_dims if keepdims is None and keep_dims is not None else keepdims)
    axes = _reduction_axis(x, axis, reduction_indices)
    return apply_op(op_type, [x], {"axis": axes, "keepdims": keepdims}, name=name)


def reduced_shape(input_shape, axis):
    """The shape vector `input_shape` with the entries of the reduced axes set to 1 (all of them for
    axis=None): the shape a reduction with keepdims=True gives, worked out at run time."""
    return apply_op("ReducedShape", [input_shape], {"axis": axis})


def _reduced_shape_shape(inputs, axis):
    input_shape = inputs[0]
    if input_shape.shape.ndims not in (None, 1) or not input_shape.dtype.base_dtype.is_integer:
        raise ValueError(f"input_shape must be an integer vector, got {input_shape.dtype.base_dtype.name} "
                         f"of shape {input_shape.shape}")
    return [(TensorShape([None]).merge_with(input_shape.shape), input_shape.dtype.base_dtype)]


def _reduced_shape_kernel(ctx, input_shape, axis):
    xp = ctx.xp
    if axis is None:
        return xp.ones_like(input_shape)
    reduced = xp.zeros(input_shape.shape, dtype=bool)
    reduced[list(axis)] = True  # a fresh array; NOTE: a negative axis counts from the end
    return xp.where(reduced, 1, input_shape).astype(input_shape.dtype)


register_op("ReducedShape", shape=_reduced_shape_shape, kernel=_reduced_shape_kernel,
            host_only=True, fold=fold_by_kernel)
NotDifferentiable("ReducedShape")


def _keepdims_grad(op, grad):
    """`grad` reshaped so that it broadcasts against the reduction's input: the reduced axes come
    back with size 1 (worked out at run time when the input's shape, or even its rank, is unknown)."""
    x = op.inputs[0]
    if op.get_attr("keepdims"):
        return grad
    axis = op.get_attr("axis")
    if x.shape.is_fully_defined():
        return reshape(grad, _reduced_shape([x], axis, keepdims=True).as_list())
    return reshape(grad, reduced_shape(shape(x), axis))


def reduce_sum(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """Sum of elements over `axis` (all axes when None)."""
    return reduction("Sum", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


register_op("Sum", shape=_reduction_shape,
            kernel=lambda ctx, x, axis, keepdims: ctx.xp.sum(x, axis=axis, keepdims=keepdims))


@register_gradient("Sum")
def _SumGrad(op, grad):
    """Each summed element receives the gradient of the sum: broadcast it back."""
    return [broadcast_to(_keepdims_grad(op, grad), _shape_of(op.inputs[0]))]


def reduce_mean(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """Mean of elements over `axis` (all axes when None)."""
    return reduction("Mean", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def _mean_kernel(ctx, x, axis, keepdims):
    xp = ctx.xp
    result = xp.mean(x, axis=axis, keepdims=keepdims)
    if x.dtype.kind in "iu":  # TF's integer mean truncates
        count = max(1, x.size // max(1, result.size))
        return (xp.sum(x, axis=axis, keepdims=keepdims) // count).astype(x.dtype)
    return result.astype(x.dtype, copy=False)


register_op("Mean", shape=_reduction_shape, kernel=_mean_kernel)


@register_gradient("Mean")
def _MeanGrad(op, grad):
    """Like Sum's gradient, divided by the number of elements averaged."""
    x = op.inputs[0]
    out = op.outputs[0]
    if x.shape.is_fully_defined() and out.shape.is_fully_defined():
        count = max(1, x.shape.num_elements() // max(1, out.shape.num_elements()))
        factor = convert_to_tensor(np.asarray(count, x.dtype.base_dtype.as_numpy_dtype))
    else:
        factor = cast(real_div(cast(size(x), dtypes.float64), cast(size(out), dtypes.float64)),
                      x.dtype.base_dtype)
    return [real_div(broadcast_to(_keepdims_grad(op, grad), _shape_of(x)), factor)]


# ================================================================================================
# Reductions: Max, Min, Prod, All, Any, and reduce_logsumexp built from them
# ================================================================================================


def reduce_max(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """The largest element over `axis` (all axes when None)."""
    return reduction("Max", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_min(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """The smallest element over `axis` (all axes when None)."""
    return reduction("Min", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


register_op("Max", shape=_reduction_shape,
            kernel=lambda ctx, x, axis, keepdims: ctx.xp.max(x, axis=axis, keepdims=keepdims))
register_op("Min", shape=_reduction_shape,
            kernel=lambda ctx, x, axis, keepdims: ctx.xp.min(x, axis=axis, keepdims=keepdims))


@register_gradient("Max")
@register_gradient("Min")
def _MinOrMaxGrad(op, grad):
    """The gradient goes to the elements equal to the result.

    NOTE: as in TF, elements tied for the max (min) share the gradient equally.
    """
    x = op.inputs[0]
    y = _keepdims_grad(op, op.outputs[0])
    chosen = cast(equal(x, y), grad.dtype.base_dtype)
    count = reduce_sum(chosen, op.get_attr("axis"), keepdims=True)
    return [multiply(real_div(chosen, count), _keepdims_grad(op, grad))]


def reduce_prod(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """The product of elements over `axis` (all axes when None)."""
    return reduction("Prod", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


register_op("Prod", shape=_reduction_shape,
            kernel=lambda ctx, x, axis, keepdims: ctx.xp.prod(x, axis=axis, keepdims=keepdims, dtype=x.dtype))


@register_gradient("Prod")
def _ProdGrad(op, grad):
    """d(prod)/dx_i is the product of all the other elements of x_i's group (no division by x_i,
    so zeros are handled).

    With reduced axes a_1..a_k, the others of element e split by the first axis a_i along which
    they differ from e: for each i, the product along a_i, on both sides of e (exclusive cumprods),
    of x already multiplied out over a_(i+1)..a_k.
    """
    x = op.inputs[0]
    axis = op.get_attr("axis")
    if axis is None and x.shape.ndims is None:  # all axes of an unknown rank: the one axis of x flattened
        others = reshape(_product_of_others(reshape(x, [-1]), 0), shape(x))
    else:
        axes = list(range(x.shape.ndims)) if axis is None else list(axis)
        others = None
        for i, a in enumerate(axes):
            inner = reduce_prod(x, axes[i + 1:], keepdims=True) if axes[i + 1:] else x
            factor = _product_of_others(inner, a)
            others = factor if others is None else multiply(others, factor)
    spread = broadcast_to(_keepdims_grad(op, grad), _shape_of(x))
    return [spread if others is None else multiply(spread, others)]


def _product_of_others(t, axis):
    """For each element of `t`, the product of the others along `axis` (those before times those after)."""
    return multiply(cumprod(t, axis, exclusive=True), cumprod(t, axis, exclusive=True, reverse=True))


def _bool_reduction_shape(inputs, axis, keepdims):
    _require_dtypes("All/Any", inputs, ("bool",), "bool")
    return _reduction_shape(inputs, axis, keepdims)


def reduce_all(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """Logical AND of a bool tensor over `axis` (all axes when None)."""
    return reduction("All", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_any(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """Logical OR of a bool tensor over `axis` (all axes when None)."""
    return reduction("Any", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


register_op("All", shape=_bool_reduction_shape,
            kernel=lambda ctx, x, axis, keepdims: ctx.xp.all(x, axis=axis, keepdims=keepdims))
register_op("Any", shape=_bool_reduction_shape,
            kernel=lambda ctx, x, axis, keepdims: ctx.xp.any(x, axis=axis, keepdims=keepdims))
NotDifferentiable("All")
NotDifferentiable("Any")


def reduce_logsumexp(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                     keep_dims=None):
    """log(sum(exp(x))) over `axis`, computed as max + log(sum(exp(x - max))) so it cannot overflow.

    The shift is a constant for differentiation (stop_gradient); NOTE: a row whose max is infinite
    is not shifted (as in TF), so a row of -inf gives -inf rather than NaN.
    """
    keepdims = bool(keep_dims if keepdims is None and keep_dims is not None else keepdims)
    axis = axis if axis is not None else reduction_indices
    with get_default_graph().name_scope(name or "ReduceLogSumExp") as scope:
        x = convert_to_tensor(input_tensor, name="input_tensor")
        raw_max = reduce_max(x, axis, keepdims=True)
        shift = stop_gradient(where(is_finite(raw_max), raw_max, zeros_like(raw_max)))
        result = log(reduce_sum(exp(subtract(x, shift)), axis, keepdims=keepdims))
        if not keepdims:
            target = result.shape.as_list() if result.shape.is_fully_defined() else shape(result)
            shift = reshape(shift, target)
        return add(result, shift, name=scope)
