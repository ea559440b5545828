"""Joining and splitting: stack/unstack, concat/split and tile (copies side by side). Padding
(borders around a tensor) is in pad_ops.py.

Each op is one block: public wrapper, shape function, kernel (against `ctx.xp`), gradient. The
gradient of a join splits the incoming gradient, and the gradient of a split joins.
"""

import itertools

import numpy as np

from tfcore.framework import dtypes
from tfcore.framework.common_shapes import check_same_dtype, normalize_axis, same_shape
from tfcore.framework.constant_folding import constant_value, fold_by_kernel, partial_shape_value
from tfcore.framework.conversion import register_value_conversion
from tfcore.framework.graph import apply_op, convert_to_tensor, get_default_graph
from tfcore.framework.registry import register_gradient, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.framework.tensor_shape import dims_or_none as _dims
from tfcore.ops.array_ops import (
    _convert_list,
    _dim_of,
    _holds_tensor,
    _shape_of,
    _shaped_as,
    _static_ints,
    identity,
    zeros_like,
)

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = ["stack", "unstack", "pack", "unpack", "concat", "split", "tile"]


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
    [(shape, dtype)] = same_shape(inputs)
    if shape.ndims is None:
        return [(TensorShape(None), dtype)]
    dims = shape.as_list()
    axis = normalize_axis(axis, len(dims) + 1)
    return [(TensorShape(dims[:axis] + [len(inputs)] + dims[axis:]), dtype)]


def _pack_fold(op, known):
    """Stack what is known of the inputs; they share one shape, so an input of unknown shape
    takes a known one's (with unknown entries)."""
    values = [known(t) for t in op.inputs]
    like = next((v for v in values if v is not None), None)
    if like is not None:
        values = [np.full(np.shape(like), None, dtype=object) if v is None else v for v in values]
    return fold_by_kernel(op, known, values)


register_op("Pack", shape=_pack_shape, kernel=lambda ctx, *xs, axis: ctx.xp.stack(xs, axis=axis),
            fold=_pack_fold)
register_value_conversion("pack", lambda values, name: stack(values, name=name))  # lists holding tensors


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


def _unpack_kernel(ctx, x, num, axis):
    xp = ctx.xp
    return tuple(xp.moveaxis(x, axis, 0)[i] for i in range(num))


register_op("Unpack", shape=_unpack_shape, kernel=_unpack_kernel, forwards_inputs=(0,))


@register_gradient("Unpack")
def _UnpackGrad(op, *grads):
    """Stack the output gradients back (zeros where an output received none)."""
    grads = [g if g is not None else zeros_like(o) for g, o in zip(grads, op.outputs)]
    return [stack(grads, axis=op.get_attr("axis"))]


pack = stack
unpack = unstack


# ================================================================================================
# Concat, and split (its inverse)
# ================================================================================================


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


register_op("ConcatV2", shape=_concat_shape, kernel=lambda ctx, *xs, axis: ctx.xp.concatenate(xs, axis=axis),
            fold=fold_by_kernel)


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
            kernel=lambda ctx, x, axis, num_split: tuple(ctx.xp.split(x, num_split, axis=axis)),
            forwards_inputs=(0,))


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
    value = constant_value(size_splits)
    if value is not None:
        sizes = [int(v) for v in np.reshape(value, [-1])]
    else:
        sizes = partial_shape_value(size_splits) or [None] * num_split
    if len(sizes) != num_split:
        raise ValueError(f"size_splits has {len(sizes)} entries, but num_split is {num_split}")
    dims = _dims(x.shape)
    if dims is None:
        return [(TensorShape(None), dtype)] * num_split
    axis = normalize_axis(axis, len(dims))
    sizes = _infer_sizes(sizes, dims[axis])
    return [(TensorShape(dims[:axis] + [s] + dims[axis + 1:]), dtype) for s in sizes]


def _split_v_kernel(ctx, x, size_splits, axis, num_split):
    xp = ctx.xp
    sizes = _infer_sizes([int(s) for s in size_splits.tolist()], x.shape[axis])
    return tuple(xp.split(x, list(itertools.accumulate(sizes[:-1])), axis=axis))


register_op("SplitV", shape=_split_v_shape, kernel=_split_v_kernel, host_memory=(1,), forwards_inputs=(0,))


@register_gradient("SplitV")
def _SplitVGrad(op, *grads):
    """As for Split: concatenate the pieces' gradients; the sizes get none."""
    return [_split_grad(op, grads), None]


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


register_op("Tile", shape=_tile_shape, kernel=lambda ctx, x, multiples: ctx.xp.tile(x, multiples))


@register_gradient("Tile")
def _TileGrad(op, grad):
    """Every copy of an element sends its gradient back to it: sum the tiles."""
    return [apply_op("TileGrad", [grad, _shape_of(op.inputs[0])], {"multiples": op.get_attr("multiples")})]


def _tile_grad_kernel(ctx, grad, shape, multiples):
    # View the gradient as [m0, d0, m1, d1, ...] and sum over the copies (the m axes).
    dims = [int(d) for d in shape.tolist()]
    split_shape = [n for m, d in zip(multiples, dims) for n in (m, d)]
    return grad.reshape(split_shape).sum(axis=tuple(range(0, 2 * len(dims), 2)))


register_op("TileGrad", shape=lambda inputs, multiples: _shaped_as(inputs[1], inputs[0]),
            kernel=_tile_grad_kernel, host_memory=(1,))


@register_gradient("TileGrad")
def _TileGradGrad(op, grad):
    """Summing the tiles is the adjoint of tiling: its gradient tiles again."""
    return [tile(grad, op.get_attr("multiples")), None]
