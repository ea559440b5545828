"""Array ops: placeholders, identity, and ops that move, reshape, join and split tensors.

Each op is one block: public wrapper, shape function, kernel (against `xp`), gradient.
"""


import numpy as np

from tfcore.framework import dtypes, errors
from tfcore.framework.common_shapes import normalize_axis, unchanged
from tfcore.framework.graph import apply_op, convert_to_tensor, get_default_graph
from tfcore.framework.registry import NotDifferentiable, register_gradient, register_op
from tfcore.framework.tensor_shape import TensorShape, as_shape

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = [
    "placeholder",
    "placeholder_with_default",
    "identity",
    "stop_gradient",
    "stack",
    "unstack",
    "pack",
    "unpack",
    "fill",
    "zeros",
    "ones",
    "zeros_like",
    "ones_like",
    "shape",
    "reshape",
    "broadcast_to",
    "size",
    "rank",
]

# ================================================================================================
# Feeding values in
# ================================================================================================


def placeholder(dtype, shape=None, name=None):
    """A tensor whose value must be fed at run time (`feed_dict={x: value}`)."""
    dtype = dtypes.as_dtype(dtype).base_dtype
    return apply_op("Placeholder", [], {"dtype": dtype, "shape": as_shape(shape)}, name=name)


_TF_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def _placeholder_kernel(ctx, dtype, shape):
    # Only reached when the placeholder is needed and was not fed.
    dims = "<unknown>" if shape.ndims is None else "[" + ",".join(
        "?" if d is None else str(d) for d in shape.as_list()) + "]"
    raise errors.InvalidArgumentError(
        None, ctx.op, f"You must feed a value for placeholder tensor '{ctx.op.name}' with dtype "
        f"{_TF_TYPE_NAMES.get(dtype.name, dtype.name)} and shape {dims}")


register_op("Placeholder", shape=lambda inputs, dtype, shape: [(shape, dtype)], kernel=_placeholder_kernel,
            stateful=True)
NotDifferentiable("Placeholder")


def placeholder_with_default(input, shape, name=None):
    """A placeholder that takes the value of `input` when it is not fed."""
    input = convert_to_tensor(input)
    return apply_op("PlaceholderWithDefault", [input], {"shape": as_shape(shape)}, name=name)


def _placeholder_with_default_shape(inputs, shape):
    if not shape.is_compatible_with(inputs[0].shape):
        raise ValueError(f"Default shape {inputs[0].shape} is not compatible with shape {shape}")
    return [(shape, inputs[0].dtype.base_dtype)]


register_op("PlaceholderWithDefault", shape=_placeholder_with_default_shape,
            kernel=lambda xp, x, shape: x)


@register_gradient("PlaceholderWithDefault")
def _PlaceholderWithDefaultGrad(op, grad):
    """The default value flows straight through."""
    return [grad]


# ================================================================================================
# Identity and gradient stops
# ================================================================================================


def identity(input, name=None):
    """A tensor with the same value as `input` (reading a variable's current value)."""
    input = convert_to_tensor(input)
    return apply_op("Identity", [input], name=name)


register_op("Identity", shape=unchanged, kernel=lambda xp, x: x)


@register_gradient("Identity")
def _IdentityGrad(op, grad):
    """d(identity(x))/dx = 1."""
    return [grad]


def stop_gradient(input, name=None):
    """Same value as `input`, but gradients do not flow back through it."""
    input = convert_to_tensor(input)
    return apply_op("StopGradient", [input], name=name)


register_op("StopGradient", shape=unchanged, kernel=lambda xp, x: x)
NotDifferentiable("StopGradient")


# ================================================================================================
# Stack (pack) and unstack
# ================================================================================================


def stack(values, axis=0, name="stack"):
    """Stack a list of same-shaped tensors along a new `axis`."""
    values = list(values)
    if not values:
        raise ValueError("stack needs at least one tensor")
    first = next((v for v in values if hasattr(v, "dtype")), None)
    dtype = None if first is None else getattr(first, "dtype", None)
    tensors = [convert_to_tensor(v, dtype=dtype.base_dtype if dtype is not None else None)
               for v in values]
    return apply_op("Pack", tensors, {"axis": axis}, name=name)


def _pack_shape(inputs, axis):
    from tfcore.framework.common_shapes import check_same_dtype
    dtype = check_same_dtype(inputs)
    shape = inputs[0].shape
    for t in inputs[1:]:
        if not shape.is_compatible_with(t.shape):
            raise ValueError(f"Shapes {shape} and {t.shape} are incompatible")
        shape = shape.merge_with(t.shape)
    if shape.ndims is None:
        return [(TensorShape(None), dtype)]
    dims = shape.as_list()
    axis = normalize_axis(axis, len(dims) + 1)
    return [(TensorShape(dims[:axis] + [len(inputs)] + dims[axis:]), dtype)]


register_op("Pack", shape=_pack_shape, kernel=lambda xp, *xs, axis: xp.stack(xs, axis=axis))


@register_gradient("Pack")
def _PackGrad(op, grad):
    """Each input gets its slice of the gradient along the stacked axis."""
    return unstack(grad, num=len(op.inputs), axis=op.get_attr("axis"))


def unstack(value, num=None, axis=0, name="unstack"):
    """Split `value` along `axis` into a list of tensors (one per index)."""
    value = convert_to_tensor(value)
    if num is None:
        shape = value.shape
        if shape.ndims is None or shape[axis].value is None:
            raise ValueError(f"Cannot infer num from shape {shape}")
        num = shape[axis].value
    out = apply_op("Unpack", [value], {"num": num, "axis": axis}, name=name)
    return out if isinstance(out, list) else [out]


def _unpack_shape(inputs, num, axis):
    shape = inputs[0].shape
    dtype = inputs[0].dtype.base_dtype
    if shape.ndims is None:
        return [(TensorShape(None), dtype)] * num
    dims = shape.as_list()
    axis = normalize_axis(axis, len(dims))
    if dims[axis] is not None and dims[axis] != num:
        raise ValueError(f"Dimension {axis} has size {dims[axis]}, not num={num}")
    return [(TensorShape(dims[:axis] + dims[axis + 1:]), dtype)] * num


def _unpack_kernel(xp, x, num, axis):
    return tuple(xp.moveaxis(x, axis, 0)[i] for i in range(num))


register_op("Unpack", shape=_unpack_shape, kernel=_unpack_kernel)


@register_gradient("Unpack")
def _UnpackGrad(op, *grads):
    """Stack the output gradients back (zeros where an output received none)."""
    grads = [g if g is not None else zeros_like(o) for g, o in zip(grads, op.outputs)]
    return [stack(grads, axis=op.get_attr("axis"))]


pack = stack
unpack = unstack


# ================================================================================================
# Filled tensors: zeros, ones, fill
# ================================================================================================


def fill(dims, value, name=None):
    """A tensor of shape `dims` filled with the scalar `value`."""
    dims = convert_to_tensor(dims, dtype=dtypes.int32)
    value = convert_to_tensor(value)
    return apply_op("Fill", [dims, value], name=name)


def _fill_shape(inputs):
    from tfcore.framework.graph import partial_shape_value
    dims, value = inputs
    if value.shape.ndims not in (None, 0):
        raise ValueError(f"value must be a scalar, got shape {value.shape}")
    known = partial_shape_value(dims)
    return [(TensorShape(known) if known is not None else TensorShape(None), value.dtype.base_dtype)]


register_op("Fill", shape=_fill_shape, kernel=lambda xp, dims, value: xp.full(tuple(int(d) for d in dims), value,
                                                                                dtype=value.dtype))


@register_gradient("Fill")
def _FillGrad(op, grad):
    """The scalar fill value receives the sum of the gradient; the shape gets none."""
    from tfcore.ops.math_ops import reduce_sum
    return [None, reduce_sum(grad)]


def _filled(shape, dtype, value, name):
    dtype = dtypes.as_dtype(dtype).base_dtype
    if hasattr(shape, "dtype"):  # a shape tensor
        return fill(shape, np.asarray(value, dtype.as_numpy_dtype), name=name)
    from tfcore.ops.constant_op import constant
    shape = [int(d) for d in as_shape(shape).as_list()]
    return constant(np.full(shape, value, dtype=dtype.as_numpy_dtype), dtype=dtype, name=name)


def zeros(shape, dtype=dtypes.float32, name="zeros"):
    """A tensor of `shape` filled with zeros."""
    return _filled(shape, dtype, 0, name)


def ones(shape, dtype=dtypes.float32, name="ones"):
    """A tensor of `shape` filled with ones."""
    return _filled(shape, dtype, 1, name)


def zeros_like(tensor, dtype=None, name=None, optimize=True):
    """Zeros with the shape (and dtype, unless given) of `tensor`."""
    tensor = convert_to_tensor(tensor)
    dtype = dtypes.as_dtype(dtype or tensor.dtype).base_dtype
    return apply_op("ZerosLike", [tensor], {"dtype": dtype}, name=name)


def ones_like(tensor, dtype=None, name=None, optimize=True):
    """Ones with the shape (and dtype, unless given) of `tensor`."""
    tensor = convert_to_tensor(tensor)
    dtype = dtypes.as_dtype(dtype or tensor.dtype).base_dtype
    return apply_op("OnesLike", [tensor], {"dtype": dtype}, name=name)


register_op("ZerosLike", shape=lambda inputs, dtype: [(inputs[0].shape, dtype)],
            kernel=lambda xp, x, dtype: xp.zeros(x.shape, dtype=dtype.as_numpy_dtype))
register_op("OnesLike", shape=lambda inputs, dtype: [(inputs[0].shape, dtype)],
            kernel=lambda xp, x, dtype: xp.ones(x.shape, dtype=dtype.as_numpy_dtype))
NotDifferentiable("ZerosLike")
NotDifferentiable("OnesLike")


# ================================================================================================
# Shape, reshape, broadcast_to and its reverse (sum_to_shape, used to un-broadcast gradients)
# ================================================================================================


def shape(input, name=None, out_type=dtypes.int32):
    """The dynamic shape of `input` as a 1-D int tensor."""
    input = convert_to_tensor(input)
    return apply_op("Shape", [input], {"out_type": dtypes.as_dtype(out_type)}, name=name)


def _shape_shape(inputs, out_type):
    rank = inputs[0].shape.ndims
    return [(TensorShape([rank]), out_type)]


register_op("Shape", shape=_shape_shape,
            kernel=lambda xp, x, out_type: xp.asarray(x.shape, dtype=out_type.as_numpy_dtype))
NotDifferentiable("Shape")


def reshape(tensor, shape, name=None):
    """`tensor` with a new shape holding the same elements; one dimension may be -1 (inferred)."""
    tensor = convert_to_tensor(tensor)
    shape = convert_to_tensor(shape, dtype=dtypes.int32) if not hasattr(shape, "dtype") else shape
    return apply_op("Reshape", [tensor, shape], name=name)


def _reshape_shape(inputs):
    from tfcore.framework.graph import partial_shape_value
    x, shape_t = inputs
    if shape_t.shape.ndims not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {shape_t.shape.ndims}")
    target = partial_shape_value(shape_t)
    dtype = x.dtype.base_dtype
    if target is None:
        return [(TensorShape(None), dtype)]
    const = _constant_or_none(shape_t)
    if const is not None:
        target = [int(v) for v in const]
        if sum(1 for v in target if v == -1) > 1:
            raise ValueError(f"Cannot infer more than one dimension in shape {target}")
        n = x.shape.num_elements()
        if -1 in target:
            known = int(np.prod([v for v in target if v != -1]))
            if n is not None:
                if known == 0 or n % known:
                    raise ValueError(f"Cannot reshape a tensor with {n} elements to shape {target}")
                target = [n // known if v == -1 else v for v in target]
            else:
                target = [None if v == -1 else v for v in target]
        elif n is not None and int(np.prod(target)) != n:
            raise ValueError(f"Cannot reshape a tensor with {n} elements to shape {target} "
                             f"({int(np.prod(target))} elements)")
    return [(TensorShape(target), dtype)]


def _constant_or_none(t):
    from tfcore.framework.graph import constant_value
    return constant_value(t)


register_op("Reshape", shape=_reshape_shape,
            kernel=lambda xp, x, shape: xp.reshape(x, tuple(int(d) for d in shape)))


@register_gradient("Reshape")
def _ReshapeGrad(op, grad):
    """Reshaping moves no values: the gradient is reshaped back to the input's shape."""
    return [reshape(grad, _shape_of(op.inputs[0])), None]


def _shape_of(t):
    """A constant shape when `t`'s static shape is fully known, else a Shape op."""
    if t.shape.is_fully_defined():
        from tfcore.ops.constant_op import constant
        return constant(t.shape.as_list(), dtype=dtypes.int32)
    return shape(t)


def broadcast_to(input, shape, name=None):
    """`input` broadcast (NumPy rules) to `shape`."""
    input = convert_to_tensor(input)
    shape = convert_to_tensor(shape, dtype=dtypes.int32) if not hasattr(shape, "dtype") else shape
    return apply_op("BroadcastTo", [input, shape], name=name)


def _broadcast_to_shape(inputs):
    from tfcore.framework.common_shapes import broadcast_shape
    from tfcore.framework.graph import partial_shape_value
    x, shape_t = inputs
    target = partial_shape_value(shape_t)
    if target is None:
        return [(TensorShape(None), x.dtype.base_dtype)]
    broadcast_shape(x.shape, TensorShape(target))  # raises when incompatible
    return [(TensorShape(target), x.dtype.base_dtype)]


register_op("BroadcastTo", shape=_broadcast_to_shape,
            kernel=lambda xp, x, shape: xp.broadcast_to(x, tuple(int(d) for d in shape)))


@register_gradient("BroadcastTo")
def _BroadcastToGrad(op, grad):
    """Broadcasting copies values: their gradients are summed back to the input's shape."""
    return [sum_to_shape(grad, _shape_of(op.inputs[0])), None]


def sum_to_shape(grad, shape, name=None):
    """Sum `grad` over the axes along which a tensor of `shape` was broadcast (un-broadcasting)."""
    return apply_op("SumToShape", [grad, shape], name=name)


def _sum_to_shape_kernel(xp, grad, shape):
    shape = tuple(int(d) for d in shape)
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, d in enumerate(shape) if d == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad


def _sum_to_shape_shape(inputs):
    from tfcore.framework.graph import partial_shape_value
    target = partial_shape_value(inputs[1])
    return [(TensorShape(target) if target is not None else TensorShape(None), inputs[0].dtype.base_dtype)]


register_op("SumToShape", shape=_sum_to_shape_shape, kernel=_sum_to_shape_kernel)


@register_gradient("SumToShape")
def _SumToShapeGrad(op, grad):
    """The reverse of a sum over broadcast axes is broadcasting back."""
    return [broadcast_to(grad, shape(op.inputs[0])), None]


def unbroadcast(grad, x):
    """The part of `grad` (shaped like a broadcast result) that belongs to input `x`."""
    if grad.shape.is_fully_defined() and x.shape.is_fully_defined() and grad.shape == x.shape:
        return grad
    if grad.shape.ndims is not None and x.shape.ndims is not None and grad.shape.ndims == x.shape.ndims and \
            all(a == b and a is not None or (b is not None and b != 1 and a is None)
                for a, b in zip(grad.shape.as_list(), x.shape.as_list())):
        return grad
    return sum_to_shape(grad, _shape_of(x))


def size(input, name=None, out_type=dtypes.int32):
    """The number of elements of `input`, as a scalar int tensor."""
    input = convert_to_tensor(input)
    return apply_op("Size", [input], {"out_type": dtypes.as_dtype(out_type)}, name=name)


register_op("Size", shape=lambda inputs, out_type: [(TensorShape([]), out_type)],
            kernel=lambda xp, x, out_type: xp.asarray(x.size, dtype=out_type.as_numpy_dtype))
NotDifferentiable("Size")


def rank(input, name=None):
    """The number of dimensions of `input`, as a scalar int32 tensor."""
    input = convert_to_tensor(input)
    return apply_op("Rank", [input], name=name)


register_op("Rank", shape=lambda inputs: [(TensorShape([]), dtypes.int32)],
            kernel=lambda xp, x: xp.asarray(x.ndim, dtype=np.int32))
NotDifferentiable("Rank")
