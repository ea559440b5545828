"""Tensors of numbers and indices: range, one_hot, unique (the distinct values and their indices)
and meshgrid (coordinate grids).

Each op is one block: public wrapper, shape function and kernel (against `ctx.xp`); Range, OneHot and
Unique have no gradient, and meshgrid is built from reshape and multiply. This module defines
`tf.range`, so inside it Python's own is `builtins.range`.
"""

import builtins
import collections

import numpy as np

from tfcore.framework import dtypes
from tfcore.framework.common_shapes import check_same_dtype
from tfcore.framework.constant_folding import constant_value
from tfcore.framework.graph import apply_op, convert_to_tensor, get_default_graph, is_tensor
from tfcore.framework.registry import NotDifferentiable, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.framework.tensor_shape import dims_or_none as _dims
from tfcore.ops.array_ops import _static_ints, ones, reshape, size
from tfcore.ops.gather_ops import _check_indices
from tfcore.ops.join_ops import stack
from tfcore.ops.math_ops import cast

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = ["range", "one_hot", "unique", "meshgrid"]


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
    values = [constant_value(t) for t in inputs]
    if any(v is None for v in values):
        return [(TensorShape([None]), dtype)]
    return [(TensorShape([_range_size(*(v.item() for v in values))]), dtype)]


def _range_kernel(ctx, start, limit, delta):
    xp = ctx.xp
    n = _range_size(start.item(), limit.item(), delta.item())
    return start + xp.arange(n, dtype=start.dtype) * delta  # NOTE: TF computes start + i * delta


register_op("Range", shape=_range_shape, kernel=_range_kernel, host_only=True)
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


def _one_hot_kernel(ctx, indices, on_value, off_value, depth, axis):
    xp = ctx.xp
    hit = xp.expand_dims(indices, -1) == xp.arange(depth, dtype=indices.dtype)
    out = xp.where(hit, on_value, off_value)
    return out if axis == -1 else xp.moveaxis(out, -1, axis)


register_op("OneHot", shape=_one_hot_shape, kernel=_one_hot_kernel)
NotDifferentiable("OneHot")


# ================================================================================================
# Unique: the distinct values and where each element's value sits among them
# ================================================================================================


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


def _unique_kernel(ctx, x, out_idx):
    xp = ctx.xp
    values, first, inverse = xp.unique(x, return_index=True, return_inverse=True)
    order = xp.argsort(first)  # NOTE: TF lists values by first appearance; unique() sorts them
    rank_of = xp.argsort(order)  # sorted position -> position in first-appearance order
    dtype = out_idx.as_numpy_dtype
    return values[order], rank_of[inverse.reshape(-1)].astype(dtype)


register_op("Unique", shape=_unique_shape, kernel=_unique_kernel)
NotDifferentiable("Unique")


# ================================================================================================
# meshgrid: coordinate grids (built from other ops)
# ================================================================================================


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
