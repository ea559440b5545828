"""Constant folding: what is known of a tensor's value while the graph is being built.

Shape functions need values that TensorFlow passes as tensors: reshape's target shape, fill's dims,
conv2d_transpose's output_shape. As TensorFlow does, they are worked out from constants and from
static shapes, through the ops that shape arithmetic is made of: `tf.stack([tf.shape(x)[0], -1])`,
`tf.concat([tf.shape(x)[:1], [3]], 0)`, casts. Each such op says how in its block, with the `fold`
fact of `register_op`: ``fold(op, known)`` gets `known`, the function below, for its inputs. Most
ops fold by running their own kernel on NumPy arrays (`fold_by_kernel`), so what they compute is
written once. A value may be known only in part: the entries of `tf.shape(x)` are known where x's
static dimensions are; the others are None.
"""

import numpy as np

from tfcore.framework.graph import Tensor
from tfcore.framework.registry import KernelContext


def constant_value(tensor):
    """The value of `tensor` as a NumPy array when it is known at build time, else None.

    Known: constants; the shape, size and rank of a tensor whose static shape says them; and what
    the ops with a `fold` fact make of known values. `tf.shape(x)[1]` is known when x's dimension 1
    is, whatever the other dimensions are.
    """
    value = known(tensor)
    if value is None or has_unknown(value):
        return None
    return np.asarray(value, dtype=tensor.dtype.as_numpy_dtype)


def partial_shape_value(tensor):
    """For a 1-D shape tensor: a list of its entries known at build time and None for the others
    (negative entries, such as reshape's -1, count as unknown); None when even its length is not."""
    value = known(tensor)
    if value is None:
        return None
    return [None if v is None or v < 0 else int(v) for v in np.reshape(value, [-1]).tolist()]


def known(tensor):
    """What is known of `tensor`'s value: an array whose unknown entries are None (object dtype),
    or None when not even its shape is known."""
    if not isinstance(tensor, Tensor):
        return None
    op = tensor.op
    fold = op.op_def.fold
    value = None if fold is None else fold(op, known)
    shape = tensor.shape
    if value is None and shape.is_fully_defined() and shape.ndims <= 1:
        value = np.full(shape.as_list(), None, dtype=object)  # a scalar or vector of unknown entries
    return value


def fold_by_kernel(op, known, values=None):
    """Run `op`'s kernel on what is known of its inputs (`values`, else `known` of each input):
    None when an input is not known at all. Entries known only in part (None) pass through kernels
    that pick, join or convert values, as those of shape arithmetic do."""
    if values is None:
        values = [known(t) for t in op.inputs]
    if not values or any(v is None for v in values):
        return None
    partial = any(has_unknown(v) for v in values)
    out = op.op_def.kernel(KernelContext(np, op), *values, **op._attrs)
    return np.asarray(out, dtype=object if partial else op.outputs[0].dtype.as_numpy_dtype)


def has_unknown(value):
    """True when `value` (what `known` returned) has an unknown (None) entry."""
    value = np.asarray(value)
    return value.dtype == object and any(v is None for v in value.reshape(-1).tolist())
