"""Gathering: gather (the slices picked by an index tensor) and boolean_mask (the entries where a
mask is True), with the scatter ops their gradients need (UnsortedSegmentSum, BooleanMaskGrad).

Each op is one block: public wrapper, shape function, kernel (against `ctx.xp`), gradient. The
gradient of a gather scatters back: a slice picked twice gets the sum of both gradients.
"""

import builtins

from tfcore.framework import dtypes
from tfcore.framework.constant_folding import constant_value
from tfcore.framework.conversion import register_tensor_conversion_function
from tfcore.framework.graph import apply_op, convert_to_tensor, get_default_graph, is_tensor
from tfcore.framework.indexed_slices import IndexedSlices
from tfcore.framework.registry import register_gradient, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.framework.tensor_shape import dims_or_none as _dims
from tfcore.ops.array_ops import _dim_of, _shape_of, _shaped_as, _static_ints, reshape
from tfcore.ops.dimension_ops import transpose
from tfcore.ops.join_ops import concat

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = ["gather", "boolean_mask"]


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


def _gather_kernel(ctx, params, indices, axis):
    xp = ctx.xp
    _check_index_range(xp, indices, params.shape[axis])
    return xp.take(params, indices, axis=axis)


register_op("GatherV2", shape=_gather_shape, kernel=_gather_kernel)


@register_gradient("GatherV2")
def _GatherV2Grad(op, grad):
    """Each picked slice sends its gradient back to where it was picked from; a slice picked twice
    gets the sum. Along axis 0, as in TF, an IndexedSlices: the picked rows' gradients and their
    indices (flattened), of params' shape; along another axis, the dense sum."""
    params, indices = op.inputs
    axis = op.get_attr("axis")
    rows = _dim_of(params, axis)
    if axis == 0:
        dense_shape = _shape_of(params)
        if indices.shape.ndims == 1:
            return [IndexedSlices(convert_to_tensor(grad), indices, dense_shape), None]
        values = reshape(grad, concat([[-1], dense_shape[1:]], 0))  # folded when params' shape is known
        return [IndexedSlices(values, reshape(indices, [-1]), dense_shape), None]
    p_rank, i_rank = params.shape.ndims, indices.shape.ndims
    if p_rank is None or i_rank is None:
        raise ValueError(f"Cannot differentiate {op.name}: the ranks of its inputs are unknown")
    # Bring the indexed dimensions to the front, sum into rows, then put the rows back at `axis`.
    front = [*range(axis, axis + i_rank), *range(axis),
             *range(axis + i_rank, p_rank + i_rank - 1)]
    summed = unsorted_segment_sum(transpose(grad, front), indices, rows)
    back = [*range(1, axis + 1), 0, *range(axis + 1, p_rank)]
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
    rows = constant_value(num)
    rows = None if rows is None else int(rows)
    if d is None or i is None:
        return [(TensorShape(None), data.dtype.base_dtype)]
    if not TensorShape(d[:len(i)]).is_compatible_with(TensorShape(i)):
        raise ValueError(f"segment_ids shape {ids.shape} must be a prefix of data shape {data.shape}")
    return [(TensorShape([rows] + d[len(i):]), data.dtype.base_dtype)]


def _unsorted_segment_sum_kernel(ctx, data, segment_ids, num_segments):
    xp = ctx.xp
    n = int(num_segments)
    _check_index_range(xp, segment_ids, n)
    out = xp.zeros((n,) + data.shape[segment_ids.ndim:], dtype=data.dtype)
    xp.add.at(out, segment_ids, data)  # `out` is fresh; add.at sums repeated ids (plain += would not)
    return out


register_op("UnsortedSegmentSum", shape=_unsorted_segment_sum_shape, kernel=_unsorted_segment_sum_kernel,
            host_memory=(2,))


def _densify(slices, dtype=None, name=None):
    """An IndexedSlices as the dense tensor it stands for: its values summed into their rows."""
    if slices.dense_shape is None:
        raise ValueError(f"Cannot convert {slices} to a tensor: its dense_shape is not known")
    if dtype is not None and slices.dtype.base_dtype != dtypes.as_dtype(dtype).base_dtype:
        raise ValueError(f"Tensor conversion requested dtype {dtypes.as_dtype(dtype).name} for IndexedSlices "
                         f"of dtype {slices.dtype.base_dtype.name}")
    return unsorted_segment_sum(slices.values, slices.indices, slices.dense_shape[0], name=name)


register_tensor_conversion_function(IndexedSlices, _densify)  # an op taking IndexedSlices gets them dense


@register_gradient("UnsortedSegmentSum")
def _UnsortedSegmentSumGrad(op, grad):
    """Every element summed into row k receives row k's gradient: a gather."""
    return [gather(grad, op.inputs[1]), None, None]


# ================================================================================================
# BooleanMask: the entries where a mask is True
# ================================================================================================


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
            kernel=lambda ctx, tensor, mask, axis: tensor[_mask_index(mask, axis)])


@register_gradient("BooleanMask")
def _BooleanMaskGrad(op, grad):
    """The kept entries receive their gradient back in place; the masked-out ones get zero."""
    tensor, mask = op.inputs
    return [apply_op("BooleanMaskGrad", [_shape_of(tensor), mask, grad], {"axis": op.get_attr("axis")}), None]


def _boolean_mask_grad_kernel(ctx, shape, mask, grad, axis):
    xp = ctx.xp
    out = xp.zeros(tuple(int(d) for d in shape.tolist()), dtype=grad.dtype)
    out[_mask_index(mask, axis)] = grad  # `out` is a fresh array: filling it in place is safe
    return out


register_op("BooleanMaskGrad", shape=lambda inputs, axis: _shaped_as(inputs[0], inputs[2]),
            kernel=_boolean_mask_grad_kernel, host_memory=(0,))


@register_gradient("BooleanMaskGrad")
def _BooleanMaskGradGrad(op, grad):
    """Scattering back is the adjoint of masking: its gradient masks again."""
    return [None, None, apply_op("BooleanMask", [grad, op.inputs[1]], {"axis": op.get_attr("axis")})]
