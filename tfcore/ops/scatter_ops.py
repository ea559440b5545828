"""Sparse updates of a variable: scatter_update, scatter_add and scatter_sub (`tf.scatter_*`).

Each op takes a variable by reference and writes rows `indices` of it: ``ref[indices[i..], ...]``
becomes ``updates[i.., ...]`` (update), or has it added (add) or subtracted (sub). A row named twice
gets both updates added (add, sub), or one of them (update, as TF: which one is not specified).
Like `Assign`, the kernels write a new array and never change the old one in place, so a tensor
that read the variable earlier in the same run keeps its value. Optimizers apply sparse gradients
(`tf.IndexedSlices`) through these ops (tfcore/train/optimizers.py).
"""

from tfcore.framework.graph import apply_op, convert_to_tensor
from tfcore.framework.registry import NotDifferentiable, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.framework.tensor_shape import dims_or_none as _dims
from tfcore.ops.gather_ops import _check_index_range, _check_indices
from tfcore.ops.variables import ref_tensor

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = ["scatter_update", "scatter_add", "scatter_sub"]


def _scatter(op_type, ref, indices, updates, use_locking, name):
    ref = ref_tensor(ref, needed_by=op_type)
    indices = convert_to_tensor(indices, name="indices")
    _check_indices(indices, "indices")
    updates = convert_to_tensor(updates, dtype=ref.dtype.base_dtype, name="updates")
    attrs = {"use_locking": bool(use_locking)}
    return apply_op(op_type, [ref, indices, updates], attrs, name=name or op_type)


def _scatter_shape(inputs, use_locking):
    """updates.shape must be indices.shape + ref.shape[1:] (or a scalar, given to every row); the
    output is the updated ref."""
    ref, indices, updates = inputs
    r, i, u = _dims(ref.shape), _dims(indices.shape), _dims(updates.shape)
    if r is not None and i is not None and u not in (None, []):
        expected = TensorShape(i + r[1:])
        if not expected.is_compatible_with(TensorShape(u)):
            raise ValueError(f"Shapes of updates {updates.shape} must be indices.shape + ref.shape[1:] = "
                             f"{expected}")
    return [(ref.shape, ref.dtype.base_dtype._as_ref())]


def _scatter_kernel(combine):
    def kernel(ctx, ref, indices, updates, use_locking=False):
        xp = ctx.xp
        old = ref.read()
        _check_index_range(xp, indices, old.shape[0])
        new = old.copy()
        combine(xp, new, indices, xp.broadcast_to(updates, indices.shape + old.shape[1:]))
        ref.write(new)
        return new
    return kernel


def _update(xp, new, indices, updates):
    new[indices] = updates


def _add(xp, new, indices, updates):
    xp.add.at(new, indices, updates)  # add.at sums the updates of a row named twice (+= would not)


def _sub(xp, new, indices, updates):
    xp.subtract.at(new, indices, updates)


def scatter_update(ref, indices, updates, use_locking=True, name=None):
    """ref[indices[i..], ...] = updates[i.., ...]; returns the variable's new value."""
    return _scatter("ScatterUpdate", ref, indices, updates, use_locking, name)


def scatter_add(ref, indices, updates, use_locking=False, name=None):
    """ref[indices[i..], ...] += updates[i.., ...] (repeated rows add up); returns the new value."""
    return _scatter("ScatterAdd", ref, indices, updates, use_locking, name)


def scatter_sub(ref, indices, updates, use_locking=False, name=None):
    """ref[indices[i..], ...] -= updates[i.., ...] (repeated rows add up); returns the new value."""
    return _scatter("ScatterSub", ref, indices, updates, use_locking, name)


for _type, _combine in (("ScatterUpdate", _update), ("ScatterAdd", _add), ("ScatterSub", _sub)):
    register_op(_type, shape=_scatter_shape, kernel=_scatter_kernel(_combine), ref_inputs=(0,))
    NotDifferentiable(_type)
