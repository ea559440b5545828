"""Array ops: placeholders, identity, and ops that move, reshape, join, split, slice and pick
from tensors; importing this module also installs `Tensor.__getitem__` (x[1:, ::-1, None]).

Each op is one block: public wrapper, shape function, kernel (against `xp`), gradient. Arguments
that TF passes as tensors but that are constant in practice (axes, perms, paddings, multiples,
slice bounds) are resolved while building the graph and kept as attrs.

This module defines `tf.range` and `tf.slice`, so inside it Python's own are `builtins.range` and
`builtins.slice`.
"""

import builtins
import collections
import itertools

import numpy as np

from tfcore.framework import dtypes, errors
from tfcore.framework.common_shapes import check_same_dtype, normalize_axis, unchanged
from tfcore.framework.graph import (
    Tensor,
    apply_op,
    constant_value,
    convert_to_tensor,
    get_default_graph,
    is_tensor,
    partial_shape_value,
)
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
    "shape_n",
    "transpose",
    "concat",
    "split",
    "expand_dims",
    "squeeze",
    "slice",
    "strided_slice",
    "gather",
    "tile",
    "pad",
    "range",
    "one_hot",
    "reverse",
    "reverse_v2",
    "unique",
    "boolean_mask",
    "meshgrid",
    "newaxis",
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
    return tuple(xp.moveaxis(x, axis, 0)[i] for i in builtins.range(num))


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
    dims, value = inputs
    if value.shape.ndims not in (None, 0):
        raise ValueError(f"value must be a scalar, got shape {value.shape}")
    known = known_shape_value(dims)
    return [(TensorShape(known) if known is not None else TensorShape(None), value.dtype.base_dtype)]


register_op("Fill", shape=_fill_shape,
            kernel=lambda xp, dims, value: xp.full(tuple(int(d) for d in dims), value, dtype=value.dtype))


@register_gradient("Fill")
def _FillGrad(op, grad):
    """The scalar fill value receives the sum of the gradient; the shape gets none."""
    from tfcore.ops.math_ops import reduce_sum
    return [None, reduce_sum(grad)]


def _filled(shape, dtype, value, name):
    dtype = dtypes.as_dtype(dtype).base_dtype
    if _holds_tensor(shape):  # a shape tensor, or a list holding tensors such as tf.shape(x)[0]
        return fill(convert_to_tensor(shape, dtype=dtypes.int32), np.asarray(value, dtype.as_numpy_dtype),
                    name=name)
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
# What is known at build time about a value (shape arithmetic such as [tf.shape(x)[0], -1])
# ================================================================================================


def known_value(t):
    """The value of tensor `t` when it can be worked out while building the graph, else None.

    Extends `constant_value` (constants, shapes, sizes, ranks) through the array ops that shape
    arithmetic uses, as TensorFlow's constant folding does: Pack, ConcatV2, StridedSlice (also an
    entry of tf.shape(x) whose dimension is known while others are not), Identity and Cast.
    """
    if not isinstance(t, Tensor):
        return None
    op = t.op
    if op.type in ("Pack", "ConcatV2"):
        values = [known_value(i) for i in op.inputs]
        if any(v is None for v in values):
            return None
        join = np.stack if op.type == "Pack" else np.concatenate
        return join(values, axis=op.get_attr("axis"))
    if op.type == "StridedSlice":
        index = _strided_index(**{k: op.get_attr(k) for k in _SPEC_KEYS})
        value = known_value(op.inputs[0])
        if value is not None:
            return np.asarray(value[index])
        entries = known_shape_value(op.inputs[0]) if op.inputs[0].shape.ndims == 1 else None
        if entries is None:
            return None
        picked = np.asarray(entries, dtype=object)[index]
        if any(v is None for v in np.reshape(picked, [-1])):
            return None
        return np.asarray(picked, dtype=t.dtype.as_numpy_dtype)
    if op.type in ("Identity", "Cast"):
        value = known_value(op.inputs[0])
        return None if value is None else np.asarray(value).astype(t.dtype.as_numpy_dtype)
    return constant_value(t)


def known_shape_value(t):
    """For a 1-D shape tensor: a list with the entries known at build time and None for the others
    (negative entries, such as reshape's -1, count as unknown); None when even its length is unknown."""
    value = known_value(t)
    if value is not None:
        return [int(v) if v >= 0 else None for v in np.reshape(value, [-1])]
    op = t.op
    if op.type == "Pack" and op.get_attr("axis") == 0:
        scalars = [known_value(i) for i in op.inputs]
        return [None if v is None or int(v) < 0 else int(v) for v in scalars]
    if op.type == "ConcatV2" and op.get_attr("axis") in (0, -1):
        parts = [known_shape_value(i) for i in op.inputs]
        if all(p is not None for p in parts):
            return [d for p in parts for d in p]
    if op.type == "StridedSlice" and t.shape.ndims == 1:
        entries = known_shape_value(op.inputs[0])
        index = _strided_index(**{k: op.get_attr(k) for k in _SPEC_KEYS})
        if entries is not None and op.inputs[0].shape.ndims == 1:
            return list(np.asarray(entries, dtype=object)[index])
    if op.type in ("Identity", "Cast"):
        return known_shape_value(op.inputs[0])
    return partial_shape_value(t)


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
    target = known_shape_value(shape_t)
    dtype = x.dtype.base_dtype
    if target is None:
        return [(TensorShape(None), dtype)]
    const = known_value(shape_t)
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
    x, shape_t = inputs
    target = known_shape_value(shape_t)
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
        grad = grad.sum(axis=tuple(builtins.range(extra)))
    axes = tuple(i for i, d in enumerate(shape) if d == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad


def _sum_to_shape_shape(inputs):
    target = known_shape_value(inputs[1])
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
        known = known_value(tensor)
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


def _dims(shape):
    """The dimensions of a static shape as a list (None entries unknown), or None for unknown rank."""
    return None if shape.ndims is None else shape.as_list()


def _dim_of(t, axis):
    """Size of `t` along `axis`: a Python int when known at build time, else a scalar tensor."""
    if t.shape.ndims is not None and t.shape[axis].value is not None:
        return t.shape[axis].value
    return shape(t)[axis]


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
        perm = list(builtins.range(a.shape.ndims))[::-1]
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
    if sorted(perm) != list(builtins.range(rank)):
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
# Concat, and split (its inverse)
# ================================================================================================


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


def concat(values, axis, name="concat"):
    """Join tensors along an existing dimension `axis` (TF1 argument order: values first)."""
    if not isinstance(values, list | tuple):
        values = [values]
    axis = _static_ints(axis, "concat's axis", ndim=0)
    tensors = _convert_list(values, "ConcatV2")
    name = name or "concat"
    if len(tensors) == 1:
        # NOTE: TF returns an identity of the single input, named "<scope>/concat".
        with get_default_graph().name_scope(name):
            return identity(tensors[0], name=name)
    rank = next((t.shape.ndims for t in tensors if t.shape.ndims is not None), None)
    if rank is not None and axis < 0 and -rank <= axis:
        axis += rank
    return apply_op("ConcatV2", tensors, {"axis": axis}, name=name)


def _concat_shape(inputs, axis):
    dtype = check_same_dtype(inputs)
    known = [t.shape for t in inputs if t.shape.ndims is not None]
    if not known:
        return [(TensorShape(None), dtype)]
    rank = known[0].ndims
    if not -rank <= axis < rank:
        raise ValueError(f"axis {axis} is out of range for inputs of rank {rank}")
    axis %= rank
    out = [None] * rank
    out[axis] = 0
    for s in known:
        if s.ndims != rank:
            raise ValueError(f"Shape must be rank {rank} but is rank {s.ndims}")
        for i, d in enumerate(s.as_list()):
            if i == axis:
                out[i] = None if out[i] is None or d is None else out[i] + d
            elif out[i] is not None and d is not None and out[i] != d:
                raise ValueError(f"Dimension {i} in both shapes must be equal, but are {out[i]} and {d}. "
                                 f"Shapes are {_dims(known[0])} and {_dims(s)}.")
            elif out[i] is None:
                out[i] = d
    if len(known) < len(inputs):
        out[axis] = None
    return [(TensorShape(out), dtype)]


register_op("ConcatV2", shape=_concat_shape, kernel=lambda xp, *xs, axis: xp.concatenate(xs, axis=axis))


@register_gradient("ConcatV2")
def _ConcatV2Grad(op, grad):
    """Each input gets its own stretch of the gradient along the concatenation axis."""
    axis = op.get_attr("axis")
    return split(grad, [_dim_of(x, axis) for x in op.inputs], axis=axis)


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Split `value` along `axis`: into `num_or_size_splits` equal parts (an int), or into parts of
    the given sizes (a list; one entry may be -1, meaning "the rest")."""
    value = convert_to_tensor(value, name="value")
    axis = _static_ints(axis, "split's axis", ndim=0)
    if value.shape.ndims is not None and axis < 0 and -value.shape.ndims <= axis:
        axis += value.shape.ndims
    if isinstance(num_or_size_splits, int | np.integer):
        attrs = {"axis": axis, "num_split": int(num_or_size_splits)}
        out = apply_op("Split", [value], attrs, name=name or "split")
        return out if isinstance(out, list) else [out]
    size_splits = convert_to_tensor(num_or_size_splits, dtype=dtypes.int32 if not _holds_tensor(
        num_or_size_splits) else None)
    if size_splits.shape.ndims == 0:  # a scalar tensor: an equal split after all
        return split(value, _static_ints(size_splits, "split's num_or_size_splits", ndim=0), axis, num, name)
    if num is None:
        num = size_splits.shape[0].value if size_splits.shape.ndims == 1 else None
        if num is None:
            raise ValueError(f"Cannot infer argument `num` from shape {size_splits.shape}")
    attrs = {"axis": axis, "num_split": int(num)}
    out = apply_op("SplitV", [value, size_splits], attrs, name=name or "split")
    return out if isinstance(out, list) else [out]


def _split_shape(inputs, axis, num_split):
    x = inputs[0]
    dtype = x.dtype.base_dtype
    if num_split < 1:
        raise ValueError(f"num_split must be at least 1, got {num_split}")
    dims = _dims(x.shape)
    if dims is None:
        return [(TensorShape(None), dtype)] * num_split
    axis = normalize_axis(axis, len(dims))
    d = dims[axis]
    if d is not None and d % num_split:
        raise ValueError(f"Dimension size must be evenly divisible by {num_split} but is {d}")
    part = dims[:axis] + [None if d is None else d // num_split] + dims[axis + 1:]
    return [(TensorShape(part), dtype)] * num_split


register_op("Split", shape=_split_shape,
            kernel=lambda xp, x, axis, num_split: tuple(xp.split(x, num_split, axis=axis)))


def _split_grad(op, grads):
    """Concatenate the parts' gradients back (zeros for a part that received none)."""
    grads = [g if g is not None else zeros_like(o) for g, o in zip(grads, op.outputs)]
    return concat(grads, op.get_attr("axis")) if len(grads) > 1 else grads[0]


@register_gradient("Split")
def _SplitGrad(op, *grads):
    """split cuts `value` into pieces: its gradient glues the pieces' gradients back together."""
    return [_split_grad(op, grads)]


def _infer_sizes(sizes, dim):
    """Resolve one -1 in `sizes` against `dim` (None when unknown); ValueError when they disagree."""
    if sum(1 for s in sizes if s == -1) > 1:
        raise ValueError("size_splits can only have one -1")
    if any(s is not None and s < -1 for s in sizes):
        raise ValueError(f"size_splits must be non-negative (or -1), got {sizes}")
    known = sum(s for s in sizes if s is not None and s >= 0)
    if dim is None or any(s is None for s in sizes):
        return [None if s == -1 else s for s in sizes]
    if -1 in sizes:
        if known > dim:
            raise ValueError(f"can't split axis of size {dim} into pieces of size {sizes}")
        return [dim - known if s == -1 else s for s in sizes]
    if known != dim:
        raise ValueError(f"can't split axis of size {dim} into pieces of size {sizes}")
    return sizes


def _split_v_shape(inputs, axis, num_split):
    x, size_splits = inputs
    dtype = x.dtype.base_dtype
    if size_splits.shape.ndims not in (None, 1):
        raise ValueError(f"size_splits must be a vector, got shape {size_splits.shape}")
    value = known_value(size_splits)
    if value is not None:
        sizes = [int(v) for v in np.reshape(value, [-1])]
    else:
        sizes = known_shape_value(size_splits) or [None] * num_split
    if len(sizes) != num_split:
        raise ValueError(f"size_splits has {len(sizes)} entries, but num_split is {num_split}")
    dims = _dims(x.shape)
    if dims is None:
        return [(TensorShape(None), dtype)] * num_split
    axis = normalize_axis(axis, len(dims))
    sizes = _infer_sizes(sizes, dims[axis])
    return [(TensorShape(dims[:axis] + [s] + dims[axis + 1:]), dtype) for s in sizes]


def _split_v_kernel(xp, x, size_splits, axis, num_split):
    sizes = _infer_sizes([int(s) for s in size_splits.tolist()], x.shape[axis])
    return tuple(xp.split(x, list(itertools.accumulate(sizes[:-1])), axis=axis))


register_op("SplitV", shape=_split_v_shape, kernel=_split_v_kernel)


@register_gradient("SplitV")
def _SplitVGrad(op, *grads):
    """As for Split: concatenate the pieces' gradients; the sizes get none."""
    return [_split_grad(op, grads), None]


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


# ================================================================================================
# Slice, StridedSlice (and Tensor.__getitem__), and the gradient of both: StridedSliceGrad
# ================================================================================================


def slice(input_, begin, size, name=None):  # TF's name: this module uses builtins.slice
    """The block of `input_` starting at `begin` with extent `size` (-1: to the end of that axis)."""
    input_ = convert_to_tensor(input_)
    begin = _static_ints(begin, "slice's begin")
    size = _static_ints(size, "slice's size")
    return apply_op("Slice", [input_], {"begin": begin, "size": size}, name=name)


def _slice_shape(inputs, begin, size):
    x = inputs[0]
    if len(begin) != len(size):
        raise ValueError(f"begin and size must have the same length, got {begin} and {size}")
    dims = _dims(x.shape)
    if dims is None:
        dims = [None] * len(begin)
    if len(dims) != len(begin):
        raise ValueError(f"begin and size must have one entry per dimension: the input has rank "
                         f"{len(dims)}, begin is {begin}")
    out = []
    for i, (b, s, d) in enumerate(zip(begin, size, dims)):
        if b < 0 or (d is not None and b > d):
            raise ValueError(f"Expected begin[{i}] in [0, {'?' if d is None else d}], but got {b}")
        if s < -1 or (d is not None and s > d - b):
            raise ValueError(f"Expected size[{i}] in [0, {'?' if d is None else d - b}], but got {s}")
        out.append(s if s != -1 else None if d is None else d - b)
    return [(TensorShape(out), x.dtype.base_dtype)]


def _slice_kernel(xp, x, begin, size):
    for i, (b, s, d) in enumerate(zip(begin, size, x.shape)):  # shapes unknown at build time
        if b > d or (s != -1 and b + s > d):
            raise ValueError(f"Expected size[{i}] in [0, {d - b}], but got {s}")
    return x[tuple(builtins.slice(b, None if s == -1 else b + s) for b, s in zip(begin, size))]


register_op("Slice", shape=_slice_shape, kernel=_slice_kernel)


@register_gradient("Slice")
def _SliceGrad(op, grad):
    """The block's gradient goes back to where the block was taken from; the rest gets zeros."""
    begin, size = op.get_attr("begin"), op.get_attr("size")
    end = [b + s if s != -1 else 0 for b, s in zip(begin, size)]
    end_mask = sum(1 << i for i, s in enumerate(size) if s == -1)
    return [_strided_slice_grad(op.inputs[0], grad, begin, end, [1] * len(begin), end_mask=end_mask)]


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, var=None, name=None):
    """Python-style slicing `input_[begin:end:strides, ...]`, described as TF does (the masks say,
    bit i per entry i: ignore begin, ignore end, an ellipsis, a new axis, take one index)."""
    input_ = convert_to_tensor(input_)
    begin = _static_ints(begin, "strided_slice's begin")
    end = _static_ints(end, "strided_slice's end")
    strides = [1] * len(begin) if strides is None else _static_ints(strides, "strided_slice's strides")
    attrs = {"begin": begin, "end": end, "strides": strides, "begin_mask": int(begin_mask),
             "end_mask": int(end_mask), "ellipsis_mask": int(ellipsis_mask),
             "new_axis_mask": int(new_axis_mask), "shrink_axis_mask": int(shrink_axis_mask)}
    return apply_op("StridedSlice", [input_], attrs, name=name)


def _strided_index(begin, end, strides, begin_mask, end_mask, ellipsis_mask, new_axis_mask,
                   shrink_axis_mask):
    """The NumPy index (ints, slices, `...`, None) that a strided-slice spec describes."""
    if len(begin) != len(end) or len(begin) != len(strides):
        raise ValueError(f"begin, end and strides must have the same length, got {begin}, {end}, {strides}")
    if bin(ellipsis_mask).count("1") > 1:
        raise ValueError("Multiple ellipses in slice spec not allowed")
    index = []
    for i, (b, e, s) in enumerate(zip(begin, end, strides)):
        bit = 1 << i
        if ellipsis_mask & bit:
            index.append(Ellipsis)
        elif new_axis_mask & bit:
            index.append(None)
        elif s == 0:
            raise ValueError(f"strides[{i}] must be non-zero")
        elif shrink_axis_mask & bit:
            if s < 0:
                raise ValueError("only stride 1 allowed on non-range indexing.")
            index.append(b)  # NOTE: as in TF, a taken index ignores begin_mask
        else:
            index.append(builtins.slice(None if begin_mask & bit else b, None if end_mask & bit else e, s))
    return tuple(index)


def _strided_shape(index, dims):
    """The static result shape of `x[index]` for `x` of static `dims` (None entries unknown)."""
    consumed = sum(1 for k in index if k is not None and k is not Ellipsis)
    if consumed > len(dims):
        raise ValueError(f"Index out of range using input dim {len(dims)}; input has only {len(dims)} dims")
    full = list(index) if any(k is Ellipsis for k in index) else list(index) + [Ellipsis]
    at = next(i for i, k in enumerate(full) if k is Ellipsis)
    full[at:at + 1] = [builtins.slice(None)] * (len(dims) - consumed)
    out, axis = [], 0
    for k in full:
        if k is None:
            out.append(1)
            continue
        d = dims[axis]
        if isinstance(k, int):
            if d is not None and not -d <= k < d:
                raise ValueError(f"slice index {k} of dimension {axis} out of bounds.")
        else:
            out.append(None if d is None else len(builtins.range(*k.indices(d))))
        axis += 1
    return out


def _strided_slice_shape(inputs, **spec):
    x = inputs[0]
    index = _strided_index(**spec)
    dims = _dims(x.shape)
    if dims is None:
        return [(TensorShape(None), x.dtype.base_dtype)]
    return [(TensorShape(_strided_shape(index, dims)), x.dtype.base_dtype)]


register_op("StridedSlice", shape=_strided_slice_shape,
            kernel=lambda xp, x, **spec: x[_strided_index(**spec)])


@register_gradient("StridedSlice")
def _StridedSliceGrad(op, grad):
    """Each element taken receives its gradient back in place; elements not taken get zero."""
    spec = {k: op.get_attr(k) for k in _SPEC_KEYS}
    return [_strided_slice_grad(op.inputs[0], grad, **spec)]


_SPEC_KEYS = ("begin", "end", "strides", "begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
              "shrink_axis_mask")


def _strided_slice_grad(x, grad, begin, end, strides, begin_mask=0, end_mask=0, ellipsis_mask=0,
                        new_axis_mask=0, shrink_axis_mask=0):
    """A tensor shaped like `x`: zeros, with `grad` written where x[begin:end:strides] was read."""
    attrs = {"begin": begin, "end": end, "strides": strides, "begin_mask": begin_mask, "end_mask": end_mask,
             "ellipsis_mask": ellipsis_mask, "new_axis_mask": new_axis_mask,
             "shrink_axis_mask": shrink_axis_mask}
    return apply_op("StridedSliceGrad", [_shape_of(x), grad], attrs)


def _shaped_as(shape_tensor, like):
    """One output whose static shape is what is known of `shape_tensor`'s value, of `like`'s dtype."""
    target = known_shape_value(shape_tensor)
    return [(TensorShape(target) if target is not None else TensorShape(None), like.dtype.base_dtype)]


def _strided_slice_grad_shape(inputs, **spec):
    return _shaped_as(inputs[0], inputs[1])


def _strided_slice_grad_kernel(xp, shape, grad, **spec):
    out = xp.zeros(tuple(int(d) for d in shape.tolist()), dtype=grad.dtype)
    out[_strided_index(**spec)] = grad  # `out` is a fresh array: filling it in place is safe
    return out


register_op("StridedSliceGrad", shape=_strided_slice_grad_shape, kernel=_strided_slice_grad_kernel)


@register_gradient("StridedSliceGrad")
def _StridedSliceGradGrad(op, grad):
    """StridedSliceGrad scatters what StridedSlice gathers: its gradient is the slice again."""
    spec = {k: op.get_attr(k) for k in _SPEC_KEYS}
    return [None, strided_slice(grad, **spec)]


def _index_value(value, what):
    """A slice bound or index: an int, or a scalar int tensor known at build time."""
    if isinstance(value, bool):
        raise TypeError(f"Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and scalar "
                        f"tf.int32/tf.int64 tensors are valid indices, got {value!r}")
    if isinstance(value, int | np.integer):
        return int(value)
    if hasattr(value, "value") and not is_tensor(value):  # a Dimension
        return int(value)
    if is_tensor(value):
        tensor = convert_to_tensor(value)
        if not tensor.dtype.base_dtype.is_integer or tensor.shape.ndims not in (None, 0):
            raise TypeError(f"Only scalar int32/int64 tensors are valid indices, got {tensor}")
        return _static_ints(tensor, what, ndim=0)
    raise TypeError(f"Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and scalar "
                    f"tf.int32/tf.int64 tensors are valid indices, got {value!r}")


def _getitem(tensor, slice_spec):
    """`tensor[slice_spec]`: NumPy-style basic indexing, built as one StridedSlice op."""
    if not isinstance(slice_spec, list | tuple):
        slice_spec = [slice_spec]  # NOTE: as in TF, a list index is read like a tuple (x[[0, 1]] is x[0, 1])
    begin, end, strides = [], [], []
    masks = {"begin_mask": 0, "end_mask": 0, "ellipsis_mask": 0, "new_axis_mask": 0, "shrink_axis_mask": 0}
    for i, s in enumerate(slice_spec):
        bit = 1 << i
        if isinstance(s, builtins.slice):
            step = 1 if s.step is None else _index_value(s.step, "a slice step")
            begin.append(0 if s.start is None else _index_value(s.start, "a slice start"))
            end.append(0 if s.stop is None else _index_value(s.stop, "a slice stop"))
            strides.append(step)
            masks["begin_mask"] |= bit if s.start is None else 0
            masks["end_mask"] |= bit if s.stop is None else 0
        elif s is Ellipsis:
            begin.append(0), end.append(0), strides.append(1)
            masks["ellipsis_mask"] |= bit
        elif s is None:
            begin.append(0), end.append(0), strides.append(1)
            masks["new_axis_mask"] |= bit
        else:
            index = _index_value(s, "an index")
            begin.append(index), end.append(index + 1), strides.append(1)
            masks["shrink_axis_mask"] |= bit
    return strided_slice(tensor, begin, end, strides, name="strided_slice", **masks)


Tensor.__getitem__ = _getitem
newaxis = None  # `x[:, tf.newaxis]` adds a dimension of size 1, as in NumPy


# ================================================================================================
# Gather, and the segment sum its gradient needs
# ================================================================================================


def _check_indices(indices, what):
    if not (indices.dtype.base_dtype.is_integer):
        raise TypeError(f"Value passed to parameter '{what}' has DataType {indices.dtype.base_dtype.name} "
                        "not in list of allowed values: int32, int64")


def gather(params, indices, validate_indices=None, name=None, axis=None, batch_dims=0):
    """The slices of `params` along `axis` picked by `indices`:
    out[a.., i.., b..] = params[a.., indices[i..], b..]."""
    if batch_dims:
        raise NotImplementedError("tfcore's gather supports batch_dims=0 only")
    params = convert_to_tensor(params, name="params")
    indices = convert_to_tensor(indices, name="indices")
    _check_indices(indices, "indices")
    axis = 0 if axis is None else _static_ints(axis, "gather's axis", ndim=0)
    if params.shape.ndims is not None and -params.shape.ndims <= axis < 0:
        axis += params.shape.ndims
    return apply_op("GatherV2", [params, indices], {"axis": axis}, name=name)


def _gather_shape(inputs, axis):
    params, indices = inputs
    dtype = params.dtype.base_dtype
    p, i = _dims(params.shape), _dims(indices.shape)
    if p is not None and not -len(p) <= axis < len(p):
        raise ValueError(f"Shape must be at least rank {axis + 1} but is rank {len(p)}")
    if p is None or i is None:
        return [(TensorShape(None), dtype)]
    axis %= len(p)
    return [(TensorShape(p[:axis] + i + p[axis + 1:]), dtype)]


def _check_index_range(xp, indices, n):
    """TF rejects an index outside [0, n) (NumPy would wrap a negative one around)."""
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= n):
        bad = xp.argwhere((indices < 0) | (indices >= n))[0].tolist()
        raise IndexError(f"indices{bad} = {int(indices[tuple(bad)])} is not in [0, {n})")


def _gather_kernel(xp, params, indices, axis):
    _check_index_range(xp, indices, params.shape[axis])
    return xp.take(params, indices, axis=axis)


register_op("GatherV2", shape=_gather_shape, kernel=_gather_kernel)


@register_gradient("GatherV2")
def _GatherV2Grad(op, grad):
    """Each picked slice sends its gradient back to where it was picked from; a slice picked twice
    gets the sum. (TF returns this as IndexedSlices; tfcore's gradient is the dense tensor.)"""
    params, indices = op.inputs
    axis = op.get_attr("axis")
    rows = _dim_of(params, axis)
    if axis == 0:
        return [unsorted_segment_sum(grad, indices, rows), None]
    p_rank, i_rank = params.shape.ndims, indices.shape.ndims
    if p_rank is None or i_rank is None:
        raise ValueError(f"Cannot differentiate {op.name}: the ranks of its inputs are unknown")
    # Bring the indexed dimensions to the front, sum into rows, then put the rows back at `axis`.
    front = [*builtins.range(axis, axis + i_rank), *builtins.range(axis),
             *builtins.range(axis + i_rank, p_rank + i_rank - 1)]
    summed = unsorted_segment_sum(transpose(grad, front), indices, rows)
    back = [*builtins.range(1, axis + 1), 0, *builtins.range(axis + 1, p_rank)]
    return [transpose(summed, back), None]


# Not exported: tfcore's version needs every segment id in [0, num_segments) (TF drops negative ids).
def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    """out[k, ...] = sum of data[i.., ...] over the positions i.. where segment_ids[i..] == k."""
    data = convert_to_tensor(data)
    segment_ids = convert_to_tensor(segment_ids)
    _check_indices(segment_ids, "segment_ids")
    num_segments = convert_to_tensor(num_segments, dtype=segment_ids.dtype.base_dtype
                                     if not is_tensor(num_segments) else None)
    return apply_op("UnsortedSegmentSum", [data, segment_ids, num_segments], name=name)


def _unsorted_segment_sum_shape(inputs):
    data, ids, num = inputs
    d, i = _dims(data.shape), _dims(ids.shape)
    rows = known_value(num)
    rows = None if rows is None else int(rows)
    if d is None or i is None:
        return [(TensorShape(None), data.dtype.base_dtype)]
    if not TensorShape(d[:len(i)]).is_compatible_with(TensorShape(i)):
        raise ValueError(f"segment_ids shape {ids.shape} must be a prefix of data shape {data.shape}")
    return [(TensorShape([rows] + d[len(i):]), data.dtype.base_dtype)]


def _unsorted_segment_sum_kernel(xp, data, segment_ids, num_segments):
    n = int(num_segments)
    _check_index_range(xp, segment_ids, n)
    out = xp.zeros((n,) + data.shape[segment_ids.ndim:], dtype=data.dtype)
    xp.add.at(out, segment_ids, data)  # `out` is fresh; add.at sums repeated ids (plain += would not)
    return out


register_op("UnsortedSegmentSum", shape=_unsorted_segment_sum_shape, kernel=_unsorted_segment_sum_kernel)


@register_gradient("UnsortedSegmentSum")
def _UnsortedSegmentSumGrad(op, grad):
    """Every element summed into row k receives row k's gradient: a gather."""
    return [gather(grad, op.inputs[1]), None, None]


# ================================================================================================
# Tile
# ================================================================================================


def tile(input, multiples, name=None):
    """`input` repeated `multiples[i]` times along each dimension i."""
    input = convert_to_tensor(input)
    multiples = _static_ints(multiples, "tile's multiples")
    return apply_op("Tile", [input], {"multiples": multiples}, name=name)


def _tile_shape(inputs, multiples):
    x = inputs[0]
    dims = _dims(x.shape)
    if dims is None:
        dims = [None] * len(multiples)
    if len(dims) != len(multiples):
        raise ValueError(f"Shape must be rank {len(dims)} but is rank {len(multiples)} "
                         f"(multiples {multiples})")
    if any(m < 0 for m in multiples):
        raise ValueError(f"Expected multiples to be non-negative, got {multiples}")
    out = [0 if m == 0 else None if d is None else d * m for d, m in zip(dims, multiples)]
    return [(TensorShape(out), x.dtype.base_dtype)]


register_op("Tile", shape=_tile_shape, kernel=lambda xp, x, multiples: xp.tile(x, multiples))


@register_gradient("Tile")
def _TileGrad(op, grad):
    """Every copy of an element sends its gradient back to it: sum the tiles."""
    return [apply_op("TileGrad", [grad, _shape_of(op.inputs[0])], {"multiples": op.get_attr("multiples")})]


def _tile_grad_kernel(xp, grad, shape, multiples):
    # View the gradient as [m0, d0, m1, d1, ...] and sum over the copies (the m axes).
    dims = [int(d) for d in shape.tolist()]
    split_shape = [n for m, d in zip(multiples, dims) for n in (m, d)]
    return grad.reshape(split_shape).sum(axis=tuple(builtins.range(0, 2 * len(dims), 2)))


register_op("TileGrad", shape=lambda inputs, multiples: _shaped_as(inputs[1], inputs[0]),
            kernel=_tile_grad_kernel)


@register_gradient("TileGrad")
def _TileGradGrad(op, grad):
    """Summing the tiles is the adjoint of tiling: its gradient tiles again."""
    return [tile(grad, op.get_attr("multiples")), None]


# ================================================================================================
# Pad (constant) and MirrorPad (reflect, symmetric)
# ================================================================================================


def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0):
    """`tensor` with paddings[i] = [before, after] entries added around dimension i.

    CONSTANT fills them with `constant_values`; REFLECT mirrors the tensor without repeating the
    edge ([1, 2, 3] padded by 2: 3 2 [1 2 3] 2 1); SYMMETRIC mirrors including it (2 1 [1 2 3] 3 2).
    """
    tensor = convert_to_tensor(tensor, name="tensor")
    paddings = _static_ints(paddings, "pad's paddings", ndim=2)
    mode = str(mode).upper()
    if mode == "CONSTANT":
        fill_value = _static(constant_values, "pad's constant_values")
        if fill_value.ndim:
            raise ValueError(f"constant_values must be a scalar, got shape {list(fill_value.shape)}")
        if not _holds_tensor(constant_values) and fill_value == 0:
            return apply_op("Pad", [tensor], {"paddings": paddings}, name=name)
        return apply_op("PadV2", [tensor], {"paddings": paddings, "constant_values": fill_value.item()},
                        name=name)
    if mode in ("REFLECT", "SYMMETRIC"):
        return apply_op("MirrorPad", [tensor], {"paddings": paddings, "mode": mode}, name=name)
    raise ValueError('Value of argument `mode` expected to be one of "CONSTANT", "REFLECT", or "SYMMETRIC". '
                     f"Received `mode` = {mode}")


def _pad_shape(inputs, paddings, mode="CONSTANT", constant_values=0):
    x = inputs[0]
    dims = _dims(x.shape)
    if dims is None:
        dims = [None] * len(paddings)
    if len(paddings) != len(dims) or any(len(p) != 2 for p in paddings):
        raise ValueError(f"paddings must have shape [{len(dims)}, 2], one [before, after] pair per "
                         f"dimension of the input, got {paddings}")
    out = []
    for i, ((before, after), d) in enumerate(zip(paddings, dims)):
        if before < 0 or after < 0:
            raise ValueError("Paddings must be non-negative")
        limit = None if d is None else d - 1 if mode == "REFLECT" else d
        if mode != "CONSTANT" and limit is not None and max(before, after) > limit:
            raise ValueError(f"{mode} paddings must be at most {limit} in dimension {i} (its size"
                             f"{' - 1' if mode == 'REFLECT' else ''}), got [{before}, {after}]")
        out.append(None if d is None else d + before + after)
    return [(TensorShape(out), x.dtype.base_dtype)]


register_op("Pad", shape=_pad_shape, kernel=lambda xp, x, paddings: xp.pad(x, paddings))
register_op("PadV2", shape=_pad_shape,
            kernel=lambda xp, x, paddings, constant_values: xp.pad(x, paddings,
                                                                   constant_values=constant_values))
register_op("MirrorPad", shape=_pad_shape,
            kernel=lambda xp, x, paddings, mode: xp.pad(x, paddings, mode=mode.lower()))


def _centre(op, grad):
    """The part of the padded gradient that lies over the original tensor."""
    paddings = op.get_attr("paddings")
    begin = [before for before, _ in paddings]
    end = [-after for _, after in paddings]
    end_mask = sum(1 << i for i, (_, after) in enumerate(paddings) if after == 0)
    return strided_slice(grad, begin, end, [1] * len(paddings), end_mask=end_mask)


@register_gradient("Pad")
def _PadGrad(op, grad):
    """The added constants depend on nothing: the input receives the centre of the gradient."""
    return [_centre(op, grad)]


@register_gradient("PadV2")
def _PadV2Grad(op, grad):
    """As for Pad (the constant value is an attr, not a differentiable input)."""
    return [_centre(op, grad)]


@register_gradient("MirrorPad")
def _MirrorPadGrad(op, grad):
    """A mirrored border is a second copy of the elements next to the edge: their gradient is
    the centre's plus the border's, folded back onto them."""
    attrs = {"paddings": op.get_attr("paddings"), "mode": op.get_attr("mode")}
    return [apply_op("MirrorPadGrad", [grad], attrs)]


def _mirror_pad_grad_shape(inputs, paddings, mode):
    dims = _dims(inputs[0].shape)
    if dims is None:
        return [(TensorShape(None), inputs[0].dtype.base_dtype)]
    out = [None if d is None else d - before - after for d, (before, after) in zip(dims, paddings)]
    return [(TensorShape(out), inputs[0].dtype.base_dtype)]


def _mirror_pad_grad_kernel(xp, grad, paddings, mode):
    # NOTE: REFLECT's border skips the edge element (it mirrors x[1:1+before]); SYMMETRIC's does not.
    offset = 1 if mode == "REFLECT" else 0
    out = grad
    for axis, (before, after) in enumerate(paddings):  # one pass per padded axis
        if before == 0 and after == 0:
            continue
        n = out.shape[axis] - before - after

        def part(start, stop, step=1, axis=axis):
            return (builtins.slice(None),) * axis + (builtins.slice(start, stop, step),)

        folded = out[part(before, before + n)].copy()  # a fresh array: adding into it is safe
        if before:
            folded[part(offset, offset + before)] += out[part(before - 1, None, -1)]
        if after:
            mirrored = out[part(before + n + after - 1, before + n - 1, -1)]
            folded[part(n - offset - after, n - offset)] += mirrored
        out = folded
    return out


register_op("MirrorPadGrad", shape=_mirror_pad_grad_shape, kernel=_mirror_pad_grad_kernel)


@register_gradient("MirrorPadGrad")
def _MirrorPadGradGrad(op, grad):
    """Folding the borders back is the adjoint of mirroring them out: its gradient mirror-pads."""
    attrs = {"paddings": op.get_attr("paddings"), "mode": op.get_attr("mode")}
    return [apply_op("MirrorPad", [grad], attrs)]


# ================================================================================================
# Range and OneHot: tensors made from numbers
# ================================================================================================

_RANGE_DTYPES = [dtypes.int32, dtypes.int64, dtypes.float16, dtypes.float32, dtypes.float64]


def range(start, limit=None, delta=1, dtype=None, name="range"):  # TF's name: see builtins.range
    """[start, start + delta, ...] up to but excluding `limit`; `range(n)` counts 0..n-1.

    The dtype is the widest of the arguments' (Python ints are int32, floats float32) unless given.
    """
    if limit is None:
        start, limit = 0, start
    with get_default_graph().name_scope(name or "range") as scope:
        args = [convert_to_tensor(v, dtype=dtype if not is_tensor(v) else None, name=n)
                for v, n in zip((start, limit, delta), ("start", "limit", "delta"))]
        target = dtypes.as_dtype(dtype).base_dtype if dtype is not None else max(
            (a.dtype.base_dtype for a in args), key=_RANGE_DTYPES.index)
        from tfcore.ops.math_ops import cast
        args = [cast(a, target) for a in args]
        return apply_op("Range", args, name=scope)


def _range_size(start, limit, delta):
    """The number of elements, with TF's checks (ValueError when the arguments disagree)."""
    if delta == 0:
        raise ValueError("Requires delta != 0")
    if delta > 0 and start > limit:
        raise ValueError(f"Requires start <= limit when delta > 0: {start}/{limit}")
    if delta < 0 and start < limit:
        raise ValueError(f"Requires start >= limit when delta < 0: {start}/{limit}")
    if isinstance(start, int) and isinstance(limit, int) and isinstance(delta, int):
        return (abs(limit - start) + abs(delta) - 1) // abs(delta)
    return int(np.ceil(abs((limit - start) / delta)))


def _range_shape(inputs):
    for t in inputs:
        if t.shape.ndims not in (None, 0):
            raise ValueError(f"start, limit and delta must be scalars, got shape {t.shape}")
    dtype = check_same_dtype(inputs)
    values = [known_value(t) for t in inputs]
    if any(v is None for v in values):
        return [(TensorShape([None]), dtype)]
    return [(TensorShape([_range_size(*(v.item() for v in values))]), dtype)]


def _range_kernel(xp, start, limit, delta):
    n = _range_size(start.item(), limit.item(), delta.item())
    return start + xp.arange(n, dtype=start.dtype) * delta  # NOTE: TF computes start + i * delta


register_op("Range", shape=_range_shape, kernel=_range_kernel)
NotDifferentiable("Range")


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """A new axis of length `depth` holding `on_value` at each index and `off_value` elsewhere
    (an index outside [0, depth) gives a row of `off_value`)."""
    with get_default_graph().name_scope(name or "one_hot") as scope:
        given = next((v for v in (on_value, off_value) if v is not None), None)
        if dtype is None:
            dtype = convert_to_tensor(given).dtype.base_dtype if given is not None else dtypes.float32
        dtype = dtypes.as_dtype(dtype).base_dtype
        on = convert_to_tensor(1 if on_value is None else on_value, dtype=dtype, name="on_value")
        off = convert_to_tensor(0 if off_value is None else off_value, dtype=dtype, name="off_value")
        indices = convert_to_tensor(indices, name="indices")
        _check_indices(indices, "indices")
        depth = _static_ints(depth, "one_hot's depth", ndim=0)
        return apply_op("OneHot", [indices, on, off], {"depth": depth, "axis": -1 if axis is None else axis},
                        name=scope)


def _one_hot_shape(inputs, depth, axis):
    indices, on, off = inputs
    dtype = check_same_dtype([on, off])
    if on.shape.ndims not in (None, 0) or off.shape.ndims not in (None, 0):
        raise ValueError("on_value and off_value must be scalars")
    if depth < 0:
        raise ValueError(f"depth must be non-negative, got {depth}")
    dims = _dims(indices.shape)
    if dims is None:
        return [(TensorShape(None), dtype)]
    if not -1 <= axis <= len(dims):
        raise ValueError(f"Expected axis to be -1 or between [0, {len(dims)}], but got {axis}")
    at = len(dims) if axis == -1 else axis
    return [(TensorShape(dims[:at] + [depth] + dims[at:]), dtype)]


def _one_hot_kernel(xp, indices, on_value, off_value, depth, axis):
    hit = xp.expand_dims(indices, -1) == xp.arange(depth, dtype=indices.dtype)
    out = xp.where(hit, on_value, off_value)
    return out if axis == -1 else xp.moveaxis(out, -1, axis)


register_op("OneHot", shape=_one_hot_shape, kernel=_one_hot_kernel)
NotDifferentiable("OneHot")


# ================================================================================================
# Reverse, Unique, boolean_mask, meshgrid
# ================================================================================================


def reverse(tensor, axis, name=None):
    """`tensor` with the order of its elements reversed along each dimension in `axis`."""
    tensor = convert_to_tensor(tensor)
    axes = _static_ints(axis, "reverse's axis")
    return apply_op("ReverseV2", [tensor], {"axis": axes}, name=name)


reverse_v2 = reverse


def _reverse_shape(inputs, axis):
    x = inputs[0]
    rank = x.shape.ndims
    if rank is not None:
        for i, a in enumerate(axis):
            if not -rank <= a < rank:
                raise ValueError(f"'axis'[{i}] = {a} is out of valid range [0, {rank - 1}]")
        if len({a % rank for a in axis}) != len(axis):
            raise ValueError(f"axis {axis} names a dimension twice")
    return [(x.shape, x.dtype.base_dtype)]


register_op("ReverseV2", shape=_reverse_shape, kernel=lambda xp, x, axis: xp.flip(x, axis=tuple(axis)))


@register_gradient("ReverseV2")
def _ReverseV2Grad(op, grad):
    """Reversing moves each element to a new place: reverse the gradient back."""
    return [reverse(grad, op.get_attr("axis"))]


UniqueOutput = collections.namedtuple("Unique", ["y", "idx"])


def unique(x, out_idx=dtypes.int32, name=None):
    """The distinct values `y` of the 1-D `x`, in order of first appearance, and `idx` with
    x == y[idx]."""
    x = convert_to_tensor(x, name="x")
    y, idx = apply_op("Unique", [x], {"out_idx": dtypes.as_dtype(out_idx).base_dtype}, name=name)
    return UniqueOutput(y, idx)


def _unique_shape(inputs, out_idx):
    x = inputs[0]
    if x.shape.ndims not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {x.shape.ndims}")
    return [(TensorShape([None]), x.dtype.base_dtype), (x.shape.merge_with(TensorShape([None])), out_idx)]


def _unique_kernel(xp, x, out_idx):
    values, first, inverse = xp.unique(x, return_index=True, return_inverse=True)
    order = xp.argsort(first)  # NOTE: TF lists values by first appearance; unique() sorts them
    rank_of = xp.argsort(order)  # sorted position -> position in first-appearance order
    dtype = out_idx.as_numpy_dtype
    return values[order], rank_of[inverse.reshape(-1)].astype(dtype)


register_op("Unique", shape=_unique_shape, kernel=_unique_kernel)
NotDifferentiable("Unique")


def boolean_mask(tensor, mask, name="boolean_mask", axis=None):
    """The entries of `tensor` where `mask` is True; `mask` covers dimensions axis..axis+k-1, which
    become one dimension of unknown length (the number of Trues)."""
    with get_default_graph().name_scope(name or "boolean_mask"):
        tensor = convert_to_tensor(tensor, name="tensor")
        mask = convert_to_tensor(mask, name="mask")
        if not mask.dtype.base_dtype.is_bool:
            raise TypeError(f"mask must be a bool tensor, got {mask.dtype.name}")
        axis = 0 if axis is None else _static_ints(axis, "boolean_mask's axis", ndim=0)
        if tensor.shape.ndims is not None and -tensor.shape.ndims <= axis < 0:
            axis += tensor.shape.ndims
        # NOTE: TF builds this from Reshape, Where and GatherV2; its result is named ".../GatherV2".
        return apply_op("BooleanMask", [tensor, mask], {"axis": axis}, name="GatherV2")


def _boolean_mask_shape(inputs, axis):
    tensor, mask = inputs
    dims, m = _dims(tensor.shape), _dims(mask.shape)
    if m is None:
        raise ValueError("Number of mask dimensions must be specified, even if some dimensions are None")
    if not m:
        raise ValueError("mask cannot be scalar.")
    if dims is None:
        return [(TensorShape(None), tensor.dtype.base_dtype)]
    if not 0 <= axis <= len(dims) - len(m):
        raise ValueError(f"axis {axis} leaves no room for a mask of rank {len(m)} in a tensor of rank "
                         f"{len(dims)}")
    covered = TensorShape(dims[axis:axis + len(m)])
    if covered.ndims != len(m) or not covered.is_compatible_with(TensorShape(m)):
        raise ValueError(f"Shapes {covered} and {mask.shape} are incompatible")
    return [(TensorShape(dims[:axis] + [None] + dims[axis + len(m):]), tensor.dtype.base_dtype)]


def _mask_index(mask, axis):
    return (builtins.slice(None),) * axis + (mask,)


register_op("BooleanMask", shape=_boolean_mask_shape,
            kernel=lambda xp, tensor, mask, axis: tensor[_mask_index(mask, axis)])


@register_gradient("BooleanMask")
def _BooleanMaskGrad(op, grad):
    """The kept entries receive their gradient back in place; the masked-out ones get zero."""
    tensor, mask = op.inputs
    return [apply_op("BooleanMaskGrad", [_shape_of(tensor), mask, grad], {"axis": op.get_attr("axis")}), None]


def _boolean_mask_grad_kernel(xp, shape, mask, grad, axis):
    out = xp.zeros(tuple(int(d) for d in shape.tolist()), dtype=grad.dtype)
    out[_mask_index(mask, axis)] = grad  # `out` is a fresh array: filling it in place is safe
    return out


register_op("BooleanMaskGrad", shape=lambda inputs, axis: _shaped_as(inputs[0], inputs[2]),
            kernel=_boolean_mask_grad_kernel)


@register_gradient("BooleanMaskGrad")
def _BooleanMaskGradGrad(op, grad):
    """Scattering back is the adjoint of masking: its gradient masks again."""
    return [None, None, apply_op("BooleanMask", [grad, op.inputs[1]], {"axis": op.get_attr("axis")})]


def meshgrid(*args, **kwargs):
    """Coordinate grids from 1-D tensors: output k holds vector k laid along its own axis and
    repeated along the others. With indexing="xy" (the default, as in NumPy and MATLAB) the first
    two vectors run along axes 1 and 0; with "ij" vector k runs along axis k."""
    indexing = kwargs.pop("indexing", "xy")
    name = kwargs.pop("name", None) or "meshgrid"
    if kwargs:
        raise TypeError(f"'{next(iter(kwargs))}' is an invalid keyword argument for this function")
    if indexing not in ("xy", "ij"):
        raise ValueError("indexing parameter must be either 'xy' or 'ij'")
    with get_default_graph().name_scope(name):
        vectors = [convert_to_tensor(a) for a in args]
        n = len(vectors)
        axes = list(builtins.range(n))
        if indexing == "xy" and n > 1:
            axes[0], axes[1] = 1, 0
        sizes = [None] * n
        columns = []
        for v, axis in zip(vectors, axes):
            columns.append(reshape(v, [1] * axis + [-1] + [1] * (n - axis - 1)))
            sizes[axis] = size(v)
        # NOTE: as TF does, broadcast by multiplying with ones (outputs are named "meshgrid/mul...").
        grid = ones(stack(sizes), dtype=vectors[0].dtype.base_dtype)
        return [c * grid for c in columns]
