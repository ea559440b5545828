"""Array basics: identity and stop_gradient, filled tensors, the shape queries, reshape,
broadcasting and its reverse; and the helpers that resolve the arguments TF passes as tensors but
that are known when the graph is built.

Each op is one block: public wrapper, shape function, kernel (against `ctx.xp`), gradient. Arguments
that TF passes as tensors but that are constant in practice (axes, perms, paddings, multiples,
slice bounds) are resolved while building the graph and kept as attrs. The other array ops live
beside this file: placeholder_ops.py (placeholders), dimension_ops.py (transpose, expand_dims,
squeeze), slicing_ops.py (slices, x[...], reverse), gather_ops.py (gather, boolean_mask),
join_ops.py (stack, concat, split, tile), pad_ops.py (pad) and index_ops.py (range, one_hot,
unique, meshgrid).
"""

import numpy as np

from tfcore.framework import dtypes
from tfcore.framework.common_shapes import broadcast_shape, unchanged
from tfcore.framework.constant_folding import constant_value, fold_by_kernel, partial_shape_value
from tfcore.framework.graph import apply_op, convert_to_tensor, is_tensor
from tfcore.framework.registry import NotDifferentiable, register_gradient, register_op
from tfcore.framework.tensor_shape import TensorShape, as_shape
from tfcore.ops.constant_op import constant

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = [
    "identity", "stop_gradient",
    "fill", "zeros", "ones", "zeros_like", "ones_like",
    "shape", "size", "rank", "shape_n", "reshape", "broadcast_to",
]


# ================================================================================================
# Identity and gradient stops
# ================================================================================================


def identity(input, name=None):
    """A tensor with the same value as `input` (reading a variable's current value)."""
    input = convert_to_tensor(input)
    return apply_op("Identity", [input], name=name)


register_op("Identity", shape=unchanged, kernel=lambda ctx, x: x, fold=fold_by_kernel, forwards_inputs=(0,))


@register_gradient("Identity")
def _IdentityGrad(op, grad):
    """d(identity(x))/dx = 1."""
    return [grad]


def stop_gradient(input, name=None):
    """Same value as `input`, but gradients do not flow back through it."""
    input = convert_to_tensor(input)
    return apply_op("StopGradient", [input], name=name)


register_op("StopGradient", shape=unchanged, kernel=lambda ctx, x: x, forwards_inputs=(0,))
NotDifferentiable("StopGradient")


# ================================================================================================
# Filled tensors: zeros, ones, fill
# ================================================================================================


def fill(dims, value, name=None):
    """A tensor of shape `dims` filled with the scalar `value`."""
    dims = convert_to_tensor(dims, dtype=dtypes.int32)
    value = convert_to_tensor(value)
    return apply_op("Fill", [dims, value], name=name)


def _fill_shape(inputs):
    dims, value = inputs
    if value.shape.ndims not in (None, 0):
        raise ValueError(f"value must be a scalar, got shape {value.shape}")
    return _shaped_as(dims, value)


register_op("Fill", shape=_fill_shape,
            kernel=lambda ctx, dims, value: ctx.xp.full(tuple(int(d) for d in dims), value,
                                                        dtype=value.dtype),
            host_memory=(0,))


@register_gradient("Fill")
def _FillGrad(op, grad):
    """The scalar fill value receives the sum of the gradient; the shape gets none."""
    return [None, sum_to_shape(grad, constant([], dtype=dtypes.int32))]


def _filled(shape, dtype, value, name):
    dtype = dtypes.as_dtype(dtype).base_dtype
    if _holds_tensor(shape):  # a shape tensor, or a list holding tensors such as tf.shape(x)[0]
        return fill(convert_to_tensor(shape, dtype=dtypes.int32), np.asarray(value, dtype.as_numpy_dtype),
                    name=name)
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
            kernel=lambda ctx, x, dtype: ctx.xp.zeros(x.shape, dtype=dtype.as_numpy_dtype))
register_op("OnesLike", shape=lambda inputs, dtype: [(inputs[0].shape, dtype)],
            kernel=lambda ctx, x, dtype: ctx.xp.ones(x.shape, dtype=dtype.as_numpy_dtype))
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


def _static_number(op, n):
    """A size or rank known from a static shape as `op`'s output value (None when not known)."""
    return None if n is None else np.array(n, dtype=op.outputs[0].dtype.as_numpy_dtype)


def _shape_fold(op, known):
    """The static shape of the input, None for each unknown dimension."""
    shape = op.inputs[0].shape
    if shape.ndims is None:
        return None
    dims = shape.as_list()
    return np.array(dims, dtype=object if None in dims else op.outputs[0].dtype.as_numpy_dtype)


register_op("Shape", shape=_shape_shape,
            kernel=lambda ctx, x, out_type: ctx.xp.asarray(x.shape, dtype=out_type.as_numpy_dtype),
            metadata_only=True, fold=_shape_fold)
NotDifferentiable("Shape")


def reshape(tensor, shape, name=None):
    """`tensor` with a new shape holding the same elements; one dimension may be -1 (inferred)."""
    tensor = convert_to_tensor(tensor)
    shape = convert_to_tensor(shape, dtype=dtypes.int32) if not hasattr(shape, "dtype") else shape
    return apply_op("Reshape", [tensor, shape], name=name)


def _reshape_shape(inputs):
    x, shape_t = inputs
    if shape_t.shape.ndims not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {shape_t.shape.ndims}")
    target = partial_shape_value(shape_t)
    dtype = x.dtype.base_dtype
    if target is None:
        return [(TensorShape(None), dtype)]
    const = constant_value(shape_t)
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
    else:
        # NOTE: as TF does, one entry unknown at build time follows from a known element count.
        n = x.shape.num_elements()
        unknown = [i for i, d in enumerate(target) if d is None]
        known = int(np.prod([d for d in target if d is not None]))
        if n is not None and len(unknown) == 1 and known and n % known == 0:
            target[unknown[0]] = n // known
    return [(TensorShape(target), dtype)]


register_op("Reshape", shape=_reshape_shape,
            kernel=lambda ctx, x, shape: ctx.xp.reshape(x, tuple(int(d) for d in shape)),
            host_memory=(1,), forwards_inputs=(0,))


@register_gradient("Reshape")
def _ReshapeGrad(op, grad):
    """Reshaping moves no values: the gradient is reshaped back to the input's shape."""
    return [reshape(grad, _shape_of(op.inputs[0])), None]


def _shape_of(t):
    """A constant shape when `t`'s static shape is fully known, else a Shape op."""
    if t.shape.is_fully_defined():
        return constant(t.shape.as_list(), dtype=dtypes.int32)
    return shape(t)


def broadcast_to(input, shape, name=None):
    """`input` broadcast (NumPy rules) to `shape`."""
    input = convert_to_tensor(input)
    shape = convert_to_tensor(shape, dtype=dtypes.int32) if not hasattr(shape, "dtype") else shape
    return apply_op("BroadcastTo", [input, shape], name=name)


def _broadcast_to_shape(inputs):
    x, shape_t = inputs
    target = partial_shape_value(shape_t)
    if target is None:
        return [(TensorShape(None), x.dtype.base_dtype)]
    broadcast_shape(x.shape, TensorShape(target))  # raises when incompatible
    return [(TensorShape(target), x.dtype.base_dtype)]


register_op("BroadcastTo", shape=_broadcast_to_shape,
            kernel=lambda ctx, x, shape: ctx.xp.broadcast_to(x, tuple(int(d) for d in shape)),
            host_memory=(1,), forwards_inputs=(0,))


@register_gradient("BroadcastTo")
def _BroadcastToGrad(op, grad):
    """Broadcasting copies values: their gradients are summed back to the input's shape."""
    return [sum_to_shape(grad, _shape_of(op.inputs[0])), None]


def sum_to_shape(grad, shape, name=None):
    """Sum `grad` over the axes along which a tensor of `shape` was broadcast (un-broadcasting)."""
    return apply_op("SumToShape", [grad, shape], name=name)


def _sum_to_shape_kernel(ctx, grad, shape):
    shape = tuple(int(d) for d in shape)
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, d in enumerate(shape) if d == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad


def _sum_to_shape_shape(inputs):
    return _shaped_as(inputs[1], inputs[0])


register_op("SumToShape", shape=_sum_to_shape_shape, kernel=_sum_to_shape_kernel,
            host_memory=(1,), forwards_inputs=(0,))


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
            kernel=lambda ctx, x, out_type: ctx.xp.asarray(x.size, dtype=out_type.as_numpy_dtype),
            metadata_only=True, fold=lambda op, known: _static_number(op, op.inputs[0].shape.num_elements()))
NotDifferentiable("Size")


def rank(input, name=None):
    """The number of dimensions of `input`, as a scalar int32 tensor."""
    input = convert_to_tensor(input)
    return apply_op("Rank", [input], name=name)


register_op("Rank", shape=lambda inputs: [(TensorShape([]), dtypes.int32)],
            kernel=lambda ctx, x: ctx.xp.asarray(x.ndim, dtype=np.int32),
            metadata_only=True, fold=lambda op, known: _static_number(op, op.inputs[0].shape.ndims))
NotDifferentiable("Rank")


def shape_n(input, out_type=dtypes.int32, name=None):
    """The dynamic shapes of a list of tensors, as a list of 1-D int tensors (one op)."""
    tensors = _convert_list(input, "ShapeN", "input")
    out = apply_op("ShapeN", tensors, {"out_type": dtypes.as_dtype(out_type)}, name=name)
    return out if isinstance(out, list) else [out]


register_op("ShapeN",
            shape=lambda inputs, out_type: [(TensorShape([t.shape.ndims]), out_type) for t in inputs],
            kernel=lambda ctx, *xs, out_type: tuple(ctx.xp.asarray(x.shape, dtype=out_type.as_numpy_dtype)
                                                   for x in xs), metadata_only=True)
NotDifferentiable("ShapeN")


# ================================================================================================
# Build-time arguments: axes, permutations, paddings, ... are attrs, known when the graph is built
# ================================================================================================


def _holds_tensor(value):
    """True for a tensor (or variable) and for a list or tuple with one somewhere inside."""
    if is_tensor(value):
        return True
    return isinstance(value, list | tuple) and any(_holds_tensor(v) for v in value)


def _static(value, what):
    """`value` as a NumPy array: a Python value, or a tensor whose value is known at build time."""
    if _holds_tensor(value):
        tensor = convert_to_tensor(value)
        known = constant_value(tensor)
        if known is None:
            raise ValueError(f"tfcore needs {what} known when the graph is built, but it is the "
                             f"computed tensor '{tensor.name}'; pass a Python value or a constant.")
        return np.asarray(known)
    return np.asarray(value)


def _static_ints(value, what, ndim=1):
    """`value` as a list of ints (ndim=1), a list of lists (ndim=2) or an int (ndim=0)."""
    array = _static(value, what)
    if array.dtype.kind not in "iu" and not (array.size == 0 and array.dtype.kind == "f"):
        raise TypeError(f"{what} must be integers, got {array.dtype.name} values {array.tolist()}")
    if ndim == 1:
        array = array.reshape(-1)
    elif array.ndim != ndim:
        raise ValueError(f"{what} must have rank {ndim}, got shape {list(array.shape)}")
    return array.astype(np.int64).tolist()


def _dim_of(t, axis):
    """Size of `t` along `axis`: a Python int when known at build time, else a scalar tensor."""
    if t.shape.ndims is not None and t.shape[axis].value is not None:
        return t.shape[axis].value
    return shape(t)[axis]


def _convert_list(values, op_type, argument="values"):
    """Convert a list of tensors and Python values to tensors of one dtype (the first tensor's)."""
    first = next((v for v in values if is_tensor(v)), None)
    dtype = None if first is None else convert_to_tensor(first).dtype.base_dtype
    tensors = [convert_to_tensor(v) if is_tensor(v) else convert_to_tensor(v, dtype=dtype) for v in values]
    kinds = [t.dtype.base_dtype for t in tensors]
    if any(k != kinds[0] for k in kinds):
        raise TypeError(f"Tensors in list passed to '{argument}' of '{op_type}' Op have types "
                        f"[{', '.join(k.name for k in kinds)}] that don't all match.")
    return tensors


def _shaped_as(shape_tensor, like):
    """One output whose static shape is what is known of `shape_tensor`'s value, of `like`'s dtype."""
    target = partial_shape_value(shape_tensor)
    return [(TensorShape(target) if target is not None else TensorShape(None), like.dtype.base_dtype)]
