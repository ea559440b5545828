"""ArgMax and ArgMin: the index of the largest (smallest) value along one axis (tf.argmax,
tf.argmin, and TF1's old names arg_max, arg_min).

Each op is one block: public wrapper, shape function, kernel (against `ctx.xp`), gradient (none: an
index is not differentiable). The axis is an attr, known when the graph is built (`_static_int`).
"""

import numpy as np

from tfcore.framework import dtypes
from tfcore.framework.common_shapes import normalize_axis
from tfcore.framework.constant_folding import constant_value
from tfcore.framework.graph import Tensor, apply_op, convert_to_tensor
from tfcore.framework.registry import NotDifferentiable, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.ops.math_ops import _NUMBERS, _require_dtypes

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = ["argmax", "argmin", "arg_max", "arg_min"]


# ================================================================================================
# ArgMax, ArgMin
# ================================================================================================


def _static_int(value, what):
    """A Python int from an int or a constant tensor (ValueError when only known at run time)."""
    if isinstance(value, Tensor):
        known = constant_value(value)
        if known is None:
            raise ValueError(f"tfcore needs `{what}` known when the graph is built (got the computed "
                             f"tensor {value.name}).")
        value = known
    return int(np.asarray(value).reshape(()))


def _arg_reduce(op_type, input, axis, dimension, output_type, name):
    if axis is not None and dimension is not None:
        raise ValueError("Cannot specify both 'axis' and 'dimension'")
    axis = _static_int(axis if axis is not None else dimension if dimension is not None else 0, "axis")
    x = convert_to_tensor(input, name="input")
    output_type = dtypes.as_dtype(output_type).base_dtype
    if output_type not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"output_type must be int32 or int64, got {output_type.name}")
    return apply_op(op_type, [x], {"axis": axis, "output_type": output_type}, name=name)


def argmax(input, axis=None, name=None, dimension=None, output_type=dtypes.int64):
    """The index of the largest value along `axis` (default 0); NOTE: the first one on ties."""
    return _arg_reduce("ArgMax", input, axis, dimension, output_type, name)


def argmin(input, axis=None, name=None, dimension=None, output_type=dtypes.int64):
    """The index of the smallest value along `axis` (default 0); NOTE: the first one on ties."""
    return _arg_reduce("ArgMin", input, axis, dimension, output_type, name)


def arg_max(input, dimension, output_type=dtypes.int64, name=None):
    """Old name of argmax."""
    return argmax(input, dimension=dimension, output_type=output_type, name=name)


def arg_min(input, dimension, output_type=dtypes.int64, name=None):
    """Old name of argmin."""
    return argmin(input, dimension=dimension, output_type=output_type, name=name)


def _arg_reduce_shape(inputs, axis, output_type):
    x = inputs[0]
    _require_dtypes("ArgMax/ArgMin", inputs, _NUMBERS, "a number type")
    if x.shape.ndims is None:
        return [(TensorShape(None), output_type)]
    if x.shape.ndims == 0:
        raise ValueError("Expected a tensor of rank at least 1 for ArgMax/ArgMin, got a scalar")
    axis = normalize_axis(axis, x.shape.ndims)
    dims = x.shape.as_list()
    return [(TensorShape(dims[:axis] + dims[axis + 1:]), output_type)]


def _argmax_kernel(ctx, x, axis, output_type):
    xp = ctx.xp
    return xp.argmax(x, axis=axis).astype(output_type.as_numpy_dtype)


def _argmin_kernel(ctx, x, axis, output_type):
    xp = ctx.xp
    return xp.argmin(x, axis=axis).astype(output_type.as_numpy_dtype)


register_op("ArgMax", shape=_arg_reduce_shape, kernel=_argmax_kernel)
register_op("ArgMin", shape=_arg_reduce_shape, kernel=_argmin_kernel)
NotDifferentiable("ArgMax")
NotDifferentiable("ArgMin")
