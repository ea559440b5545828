"""Constants: `tf.constant` turns a Python or NumPy value into a `Const` op holding it."""


import numpy as np

from tfcore.framework import dtypes
from tfcore.framework.conversion import register_value_conversion
from tfcore.framework.graph import apply_op
from tfcore.framework.registry import NotDifferentiable, register_op
from tfcore.framework.tensor_shape import TensorShape

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = [
    "constant",
]


def to_numpy(value, dtype=None):
    """`value` as a NumPy array of `dtype` (TF's rules: Python floats float32, ints int32).

    Raises TypeError for a lossy conversion, such as 2.5 into an int32 constant.
    """
    if dtype is None:
        dtype = dtypes.infer_dtype(value)
    dtype = dtypes.as_dtype(dtype).base_dtype
    if dtype == dtypes.string:
        return dtypes.string_array(value, "a string constant"), dtype
    try:
        raw = np.asarray(value)
    except ValueError as e:
        raise ValueError(f"Cannot make a constant from {value!r}: {e}") from None
    if raw.dtype.kind in "USO":
        raise TypeError(f"Expected {dtype.name}, got {value!r} of type '{type(value).__name__}' instead.")
    if (dtype.is_integer or dtype.is_bool) and raw.dtype.kind == "f" and np.any(raw != np.round(raw)):
        raise TypeError(f"Expected {dtype.name}, got {value!r} of type '{type(value).__name__}' instead.")
    return raw.astype(dtype.as_numpy_dtype, copy=False), dtype


def constant(value, dtype=None, shape=None, name="Const", verify_shape=False):
    """A tensor holding `value` (optionally cast to `dtype` and broadcast to `shape`)."""
    array, dtype = to_numpy(value, dtype)
    if shape is not None:
        shape = [int(d) for d in TensorShape(shape).as_list()]
        n = int(np.prod(shape))
        if array.size == n:
            array = array.reshape(shape)
        elif array.size == 1:
            array = np.full(shape, array.reshape(()), dtype=array.dtype)
        elif verify_shape or array.size > n:
            raise TypeError(f"Expected Tensor's shape: {tuple(shape)}, got {array.shape}.")
        else:  # TF1 pads a short list with its last element
            flat = array.reshape(-1)
            array = np.concatenate([flat, np.repeat(flat[-1:], n - flat.size)]).reshape(shape)
    array = np.array(array, copy=True)
    array.flags.writeable = False  # kernels must never modify a constant in place
    return apply_op("Const", [], {"value": array, "dtype": dtype}, name=name)


register_op("Const", shape=lambda inputs, value, dtype: [(TensorShape(value.shape), dtype)],
            kernel=lambda ctx, value, dtype: ctx.xp.asarray(value), constant=True,
            fold=lambda op, known: op.get_attr("value"))
NotDifferentiable("Const")
register_value_conversion("constant", constant)  # convert_to_tensor makes values constants
