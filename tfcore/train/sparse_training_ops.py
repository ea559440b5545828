"""The optimizers' update rules for sparse gradients: `SparseApply*` ops, which update only the rows
of a variable (and of its slots) that a `tf.IndexedSlices` gradient names.

Each takes the same inputs as its dense `Apply*` op (tfcore/train/training_ops.py) with the rows'
`indices` right after the gradient, as in TF, and runs the dense op's arithmetic on those rows: its
kernel hands the dense kernel views of the variable and its slots that read and write the chosen
rows only. A row named twice is updated twice, one index after the other, as TF's kernels do (the
optimizers sum repeated rows first, so they never send one).
"""

from tfcore.framework import errors
from tfcore.framework.graph import apply_op, convert_to_tensor
from tfcore.framework.registry import NotDifferentiable, get_op_def, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.ops.variables import ref_tensor
from tfcore.train import training_ops  # noqa: F401 - registers the dense ops whose kernels these reuse

# Internal ops: the optimizers call `sparse_apply`; nothing is exported as tf.<name>.
__all__ = []

# sparse op type -> (dense op type, number of variable references, position of the gradient)
SPARSE_RULES = {
    "SparseApplyMomentum": ("ApplyMomentum", 2, 3),
    "SparseApplyAdagrad": ("ApplyAdagrad", 2, 3),
    "SparseApplyRMSProp": ("ApplyRMSProp", 3, 7),
    "SparseApplyCenteredRMSProp": ("ApplyCenteredRMSProp", 4, 8),
}


def sparse_apply(op_type, refs, before, grad, after, attrs, name=None):
    """Build `op_type` (a key of SPARSE_RULES) from variable references `refs`, the dense op's value
    inputs `before` the gradient, the IndexedSlices `grad` (its values, then its indices) and the
    value inputs `after` it."""
    refs = [ref_tensor(r, needed_by=op_type) for r in refs]
    dtype = refs[0].dtype.base_dtype
    grad_inputs = [convert_to_tensor(grad.values, dtype=dtype), convert_to_tensor(grad.indices)]
    inputs = (refs + [convert_to_tensor(v, dtype=dtype) for v in before] + grad_inputs
              + [convert_to_tensor(v, dtype=dtype) for v in after])
    return apply_op(op_type, inputs, attrs, name=name or op_type)


def _sparse_shape(num_refs, grad_position):
    def shape(inputs, **attrs):
        var, grad, indices = inputs[0], inputs[grad_position], inputs[grad_position + 1]
        if not indices.dtype.base_dtype.is_integer:
            raise TypeError(f"indices must be int32 or int64, got {indices.dtype.base_dtype.name}")
        if indices.shape.ndims not in (None, 1):
            raise ValueError(f"indices must be a vector, but has shape {indices.shape}")
        for t in inputs[1:num_refs]:
            if not var.shape.is_compatible_with(t.shape):
                raise ValueError(f"The variable and its slots must have one shape, not {var.shape} "
                                 f"and {t.shape}")
        if var.shape.ndims is not None and grad.shape.ndims is not None:
            rows = TensorShape([indices.shape[0] if indices.shape.ndims else None]).concatenate(var.shape[1:])
            if not rows.is_compatible_with(grad.shape):
                raise ValueError(f"The gradient's shape {grad.shape} must be [len(indices)] + "
                                 f"{var.shape[1:]}")
        return [(var.shape, var.dtype.base_dtype._as_ref())]
    return shape


class _Rows:
    """A variable reference seen through rows `indices`: `read` gives those rows, `write` keeps
    new rows, `commit` writes the variable with them (a new array: the old one is not changed)."""

    def __init__(self, ref, indices):
        self.ref, self.indices, self.rows = ref, indices, None

    def read(self):
        return self.ref.read()[self.indices]

    def write(self, rows):
        self.rows = rows

    def commit(self):
        new = self.ref.read().copy()
        if self.rows is not None:
            new[self.indices] = self.rows
        self.ref.write(new)
        return new


def _sparse_kernel(dense_type, num_refs, grad_position):
    def kernel(ctx, *inputs, **attrs):
        dense = get_op_def(dense_type).kernel
        refs, values = inputs[:num_refs], list(inputs[num_refs:])
        indices = values.pop(grad_position + 1 - num_refs)
        grad = values[grad_position - num_refs]
        rows = refs[0].read().shape[0]
        if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= rows):
            raise errors.InvalidArgumentError(None, ctx.op, f"indices must be in [0, {rows}), got "
                                              f"{indices.tolist()}")
        unique = len(ctx.xp.unique(indices)) == len(indices)
        # Repeated rows: one index after the other, each update seeing the one before.
        groups = [slice(None)] if unique else [slice(i, i + 1) for i in range(len(indices))]
        for group in groups:
            views = [_Rows(ref, indices[group]) for ref in refs]
            values[grad_position - num_refs] = grad[group]
            dense(ctx, *views, *values, **attrs)
            for view in views:
                view.commit()
        return refs[0].read()
    return kernel


for _type, (_dense, _refs, _grad) in SPARSE_RULES.items():
    register_op(_type, shape=_sparse_shape(_refs, _grad), kernel=_sparse_kernel(_dense, _refs, _grad),
                ref_inputs=tuple(range(_refs)))
    NotDifferentiable(_type)
