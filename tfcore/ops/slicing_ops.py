"""Slicing: slice, strided_slice and `x[...]` (installed here as Tensor.__getitem__), and reverse.
Gather and boolean_mask are in gather_ops.py.

Each op is one block: public wrapper, shape function, kernel (against `ctx.xp`), gradient. Slice
bounds, strides and axes are attrs, known when the graph is built. This module defines `tf.slice`,
so inside it Python's own is `builtins.slice`.
"""

import builtins

import numpy as np

from tfcore.framework.constant_folding import fold_by_kernel
from tfcore.framework.graph import Tensor, apply_op, convert_to_tensor, is_tensor
from tfcore.framework.registry import register_gradient, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.framework.tensor_shape import dims_or_none as _dims
from tfcore.ops.array_ops import _shape_of, _shaped_as, _static_ints

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = ["slice", "strided_slice", "newaxis", "reverse", "reverse_v2"]


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


def _slice_kernel(ctx, x, begin, size):
    for i, (b, s, d) in enumerate(zip(begin, size, x.shape)):  # shapes unknown at build time
        if b > d or (s != -1 and b + s > d):
            raise ValueError(f"Expected size[{i}] in [0, {d - b}], but got {s}")
    return x[tuple(builtins.slice(b, None if s == -1 else b + s) for b, s in zip(begin, size))]


register_op("Slice", shape=_slice_shape, kernel=_slice_kernel, forwards_inputs=(0,))


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
            out.append(None if d is None else len(range(*k.indices(d))))
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
            kernel=lambda ctx, x, **spec: x[_strided_index(**spec)],
            fold=fold_by_kernel, forwards_inputs=(0,))


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


def _strided_slice_grad_shape(inputs, **spec):
    return _shaped_as(inputs[0], inputs[1])


def _strided_slice_grad_kernel(ctx, shape, grad, **spec):
    xp = ctx.xp
    out = xp.zeros(tuple(int(d) for d in shape.tolist()), dtype=grad.dtype)
    out[_strided_index(**spec)] = grad  # `out` is a fresh array: filling it in place is safe
    return out


register_op("StridedSliceGrad", shape=_strided_slice_grad_shape, kernel=_strided_slice_grad_kernel,
            host_memory=(0,))


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
# Reverse: a slice with stride -1 along some axes
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


register_op("ReverseV2", shape=_reverse_shape, kernel=lambda ctx, x, axis: ctx.xp.flip(x, axis=tuple(axis)),
            forwards_inputs=(0,))


@register_gradient("ReverseV2")
def _ReverseV2Grad(op, grad):
    """Reversing moves each element to a new place: reverse the gradient back."""
    return [reverse(grad, op.get_attr("axis"))]
