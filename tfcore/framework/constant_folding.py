"""Constant folding: what is known of a tensor's value while the graph is being built.

Shape functions need values that TensorFlow passes as tensors: reshape's target shape, fill's dims,
conv2d_transpose's output_shape. As TensorFlow does, they are worked out from constants and from
static shapes, through the ops that shape arithmetic is made of: `tf.stack([tf.shape(x)[0], -1])`,
`tf.concat([tf.shape(x)[:1], [3]], 0)`, casts. An op is folded by running its own kernel on NumPy
arrays, so what it computes is written once, in its op block. A value may be known only in part: the
entries of `tf.shape(x)` are known where x's static dimensions are; the others are None.
"""

import numpy as np

from tfcore.framework.graph import Tensor
from tfcore.framework.registry import get_op_def

# Ops whose kernel folding runs on known inputs: they only pick, join or convert values. All but
# Cast also carry values known in part (unknown entries as None) from their inputs to their output.
_FOLDABLE = ("Identity", "Cast", "Pack", "ConcatV2", "StridedSlice", "ReducedShape")


def constant_value(tensor):
    """The value of `tensor` as a NumPy array when it is known at build time, else None.

    Known: constants; the shape, size and rank of a tensor whose static shape says them; and what
    the ops of `_FOLDABLE` make of known values. `tf.shape(x)[1]` is known when x's dimension 1 is,
    whatever the other dimensions are.
    """
    value = _known(tensor)
    if value is None or _has_unknown(value):
        return None
    if tensor.op.type == "Const":
        return value
    return np.asarray(value, dtype=tensor.dtype.as_numpy_dtype)


def partial_shape_value(tensor):
    """For a 1-D shape tensor: a list of its entries known at build time and None for the others
    (negative entries, such as reshape's -1, count as unknown); None when even its length is not."""
    value = _known(tensor)
    if value is None:
        return None
    return [None if v is None or v < 0 else int(v) for v in np.reshape(value, [-1]).tolist()]


def _known(tensor):
    """What is known of `tensor`'s value: an array whose unknown entries are None (object dtype),
    or None when not even its shape is known."""
    if not isinstance(tensor, Tensor):
        return None
    op = tensor.op
    value = None
    if op.type == "Const":
        value = op.get_attr("value")
    elif op.type in ("Shape", "Size", "Rank"):
        value = _shape_query(op)
    elif op.type in _FOLDABLE:
        value = _fold(op)
    shape = tensor.shape
    if value is None and shape.is_fully_defined() and shape.ndims <= 1:
        value = np.full(shape.as_list(), None, dtype=object)  # a scalar or vector of unknown entries
    return value


def _shape_query(op):
    """The value of a Shape, Size or Rank op, from its input's static shape (None where unknown)."""
    shape = op.inputs[0].shape
    dtype = op.outputs[0].dtype.as_numpy_dtype
    if op.type == "Rank":
        return None if shape.ndims is None else np.array(shape.ndims, dtype=dtype)
    if op.type == "Size":
        n = shape.num_elements()
        return None if n is None else np.array(n, dtype=dtype)
    if shape.ndims is None:
        return None
    dims = shape.as_list()
    return np.array(dims, dtype=object if None in dims else dtype)


def _fold(op):
    """Run `op`'s kernel on what is known of its inputs (None when too little is known)."""
    values = [_known(t) for t in op.inputs]
    if op.type == "Pack":  # its inputs share one shape: an input of unknown shape takes a known one's
        like = next((v for v in values if v is not None), None)
        if like is not None:
            values = [np.full(np.shape(like), None, dtype=object) if v is None else v for v in values]
    if not values or any(v is None for v in values):
        return None
    partial = any(_has_unknown(v) for v in values)
    if partial and op.type == "Cast":
        return values[0]  # known entries are shape numbers: converting them changes nothing
    out = get_op_def(op.type).kernel(np, *values, **op._attrs)
    return np.asarray(out, dtype=object if partial else op.outputs[0].dtype.as_numpy_dtype)


def _has_unknown(value):
    value = np.asarray(value)
    return value.dtype == object and any(v is None for v in value.reshape(-1).tolist())
