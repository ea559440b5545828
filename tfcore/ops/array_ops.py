"""Array basics: placeholders, identity and stop_gradient, filled tensors, the shape queries, reshape,
broadcasting and its reverse, expand_dims/squeeze and transpose; and the helpers that resolve the
arguments TF passes as tensors but that are known when the graph is built.

Each op is one block: public wrapper, shape function, kernel (against `xp`), gradient. Arguments
that TF passes as tensors but that are constant in practice (axes, perms, paddings, multiples,
slice bounds) are resolved while building the graph and kept as attrs. The other array ops live
beside this file: slicing_ops.py (slices, x[...], gather, boolean_mask, reverse), join_ops.py
(stack, concat, split, tile, pad) and index_ops.py (range, one_hot, unique, meshgrid).
"""

import numpy as np

from tfcore.framework import dtypes, errors
from tfcore.framework.common_shapes import broadcast_shape, unchanged
from tfcore.framework.constant_folding import constant_value, partial_shape_value
from tfcore.framework.graph import apply_op, convert_to_tensor, is_tensor
from tfcore.framework.registry import NotDifferentiable, register_gradient, register_op
from tfcore.framework.tensor_shape import TensorShape, as_shape
from tfcore.framework.tensor_shape import dims_or_none as _dims
from tfcore.ops.constant_op import constant

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = [
    "placeholder", "placeholder_with_default", "identity", "stop_gradient",
    "fill", "zeros", "ones", "zeros_like", "ones_like",
    "shape", "size", "rank", "shape_n", "reshape", "broadcast_to",
    "expand_dims", "squeeze", "transpose",
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
            kernel=lambda xp, dims, value: xp.full(tuple(int(d) for d in dims), value, dtype=value.dtype))


@register_gradient("Fill")
def _FillGrad(op, grad):
    """The scalar fill value receives the sum of the gradient; the shape gets none."""
    from tfcore.ops.reduction_ops import reduce_sum  # imported here: reduction_ops builds on this module
    return [None, reduce_sum(grad)]


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
            kernel=lambda xp, x, shape: xp.reshape(x, tuple(int(d) for d in shape)))


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
    return _shaped_as(inputs[1], inputs[0])


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


def shape_n(input, out_type=dtypes.int32, name=None):
    """The dynamic shapes of a list of tensors, as a list of 1-D int tensors (one op)."""
    tensors = _convert_list(input, "ShapeN", "input")
    out = apply_op("ShapeN", tensors, {"out_type": dtypes.as_dtype(out_type)}, name=name)
    return out if isinstance(out, list) else [out]


register_op("ShapeN",
            shape=lambda inputs, out_type: [(TensorShape([t.shape.ndims]), out_type) for t in inputs],
            kernel=lambda xp, *xs, out_type: tuple(xp.asarray(x.shape, dtype=out_type.as_numpy_dtype)
                                                   for x in xs))
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


# ================================================================================================
# Transpose
# ================================================================================================


def transpose(a, perm=None, name="transpose", conjugate=False):
    """Permute the dimensions of `a`: output dimension i is input dimension perm[i].

    Without `perm` the dimensions are reversed (a matrix is transposed).
    """
    a = convert_to_tensor(a, name="a")
    if perm is not None:
        perm = _static_ints(perm, "transpose's perm")
    elif a.shape.ndims is not None:
        perm = list(range(a.shape.ndims))[::-1]
    return apply_op("Transpose", [a], {"perm": perm}, name=name or "transpose")


def _transpose_shape(inputs, perm):
    x = inputs[0]
    dtype = x.dtype.base_dtype
    if perm is None:  # reverse, rank unknown
        return [(TensorShape(None), dtype)]
    dims = _dims(x.shape)
    rank = len(perm) if dims is None else len(dims)
    if len(perm) != rank:
        raise ValueError(f"perm has {len(perm)} entries but the input has rank {rank}")
    for p in perm:
        if not 0 <= p < rank:
            raise ValueError(f"perm dim {p} is out of range of input rank {rank}")
    if sorted(perm) != list(range(rank)):
        raise ValueError(f"perm {perm} is not a permutation of 0..{rank - 1}")
    if dims is None:
        return [(TensorShape([None] * rank), dtype)]
    return [(TensorShape([dims[p] for p in perm]), dtype)]


register_op("Transpose", shape=_transpose_shape, kernel=lambda xp, x, perm: xp.transpose(x, perm))


@register_gradient("Transpose")
def _TransposeGrad(op, grad):
    """y[..i..] = x[..perm[i]..], so the gradient moves back with the inverse permutation."""
    perm = op.get_attr("perm")
    return [transpose(grad, None if perm is None else np.argsort(perm).tolist())]


# ================================================================================================
# ExpandDims and Squeeze: add or remove dimensions of size 1
# ================================================================================================


def expand_dims(input, axis=None, name=None, dim=None):
    """`input` with a new dimension of size 1 inserted at `axis` (`dim` is TF1's old name)."""
    if axis is None:
        axis = dim
    if axis is None:
        raise ValueError("Must specify an axis argument to tf.expand_dims()")
    input = convert_to_tensor(input)
    axis = _static_ints(axis, "expand_dims's axis", ndim=0)
    return apply_op("ExpandDims", [input], {"axis": axis}, name=name)


def _expand_dims_shape(inputs, axis):
    x = inputs[0]
    dims = _dims(x.shape)
    if dims is None:
        return [(TensorShape(None), x.dtype.base_dtype)]
    rank = len(dims)
    if not -rank - 1 <= axis <= rank:
        raise ValueError(f"dim {axis} not in the interval [{-rank - 1}, {rank}].")
    axis %= rank + 1  # NOTE: a negative axis counts from the end of the *output* (-1 appends)
    return [(TensorShape(dims[:axis] + [1] + dims[axis:]), x.dtype.base_dtype)]


register_op("ExpandDims", shape=_expand_dims_shape, kernel=lambda xp, x, axis: xp.expand_dims(x, axis))


@register_gradient("ExpandDims")
def _ExpandDimsGrad(op, grad):
    """No value moves: reshape the gradient back to the input's shape."""
    return [reshape(grad, _shape_of(op.inputs[0]))]


def squeeze(input, axis=None, name=None, squeeze_dims=None):
    """`input` without dimensions of size 1: all of them, or only those listed in `axis`."""
    if axis is None:
        axis = squeeze_dims
    input = convert_to_tensor(input)
    axes = [] if axis is None else _static_ints(axis, "squeeze's axis")
    return apply_op("Squeeze", [input], {"squeeze_dims": axes}, name=name)


def _squeeze_shape(inputs, squeeze_dims):
    x = inputs[0]
    dtype = x.dtype.base_dtype
    dims = _dims(x.shape)
    if dims is None:
        return [(TensorShape(None), dtype)]
    for i, a in enumerate(squeeze_dims):
        if not -len(dims) <= a < len(dims):
            raise ValueError(f"squeeze_dims[{i}] not in [{-len(dims)},{len(dims)}).")
    squeeze_dims = {a % len(dims) for a in squeeze_dims}
    if not squeeze_dims:
        if None in dims:  # NOTE: as in TF, an unknown dimension might be 1: the result rank is unknown
            return [(TensorShape(None), dtype)]
        return [(TensorShape([d for d in dims if d != 1]), dtype)]
    for a in squeeze_dims:
        if dims[a] is not None and dims[a] != 1:
            raise ValueError(f"Can not squeeze dim[{a}], expected a dimension of 1, got {dims[a]}")
    return [(TensorShape([d for i, d in enumerate(dims) if i not in squeeze_dims]), dtype)]


register_op("Squeeze", shape=_squeeze_shape,
            kernel=lambda xp, x, squeeze_dims: xp.squeeze(x, axis=tuple(squeeze_dims) or None))


@register_gradient("Squeeze")
def _SqueezeGrad(op, grad):
    """No value moves: reshape the gradient back to the input's shape."""
    return [reshape(grad, _shape_of(op.inputs[0]))]
