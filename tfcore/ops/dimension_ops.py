"""Rearranging dimensions: transpose (permute them), expand_dims and squeeze (add or remove
dimensions of size 1).

Each op is one block: public wrapper, shape function, kernel (against `ctx.xp`), gradient. The
permutation and the axes are attrs, known when the graph is built. No value moves in expand_dims
and squeeze, so their gradients are reshapes.
"""

import numpy as np

from tfcore.framework.graph import apply_op, convert_to_tensor
from tfcore.framework.registry import register_gradient, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.framework.tensor_shape import dims_or_none as _dims
from tfcore.ops.array_ops import _shape_of, _static_ints, reshape

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = ["expand_dims", "squeeze", "transpose"]


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


register_op("Transpose", shape=_transpose_shape, kernel=lambda ctx, x, perm: ctx.xp.transpose(x, perm),
            forwards_inputs=(0,))


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


register_op("ExpandDims", shape=_expand_dims_shape, kernel=lambda ctx, x, axis: ctx.xp.expand_dims(x, axis),
            forwards_inputs=(0,))


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
            kernel=lambda ctx, x, squeeze_dims: ctx.xp.squeeze(x, axis=tuple(squeeze_dims) or None),
            forwards_inputs=(0,))


@register_gradient("Squeeze")
def _SqueezeGrad(op, grad):
    """No value moves: reshape the gradient back to the input's shape."""
    return [reshape(grad, _shape_of(op.inputs[0]))]
