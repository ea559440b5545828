"""Shape functions shared by many ops (each returns ``[(TensorShape, DType), ...]``)."""

from tfcore.framework import dtypes
from tfcore.framework.errors import DTypeMismatchError
from tfcore.framework.tensor_shape import TensorShape


def unchanged(inputs, **attrs):
    """One output with the shape and dtype of the first input (elementwise unary ops)."""
    x = inputs[0]
    return [(x.shape, x.dtype.base_dtype)]


def broadcast_shape(a, b):
    """NumPy broadcasting of two static shapes; ValueError when they cannot broadcast."""
    if a.ndims is None or b.ndims is None:
        return TensorShape(None)
    da, db = a.as_list(), b.as_list()
    n = max(len(da), len(db))
    da = [1] * (n - len(da)) + da
    db = [1] * (n - len(db)) + db
    out = []
    for x, y in zip(da, db):
        if x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif x is None or y is None:
            out.append(x if y is None else y)
        elif x == y:
            out.append(x)
        else:
            raise ValueError(f"Dimensions must be equal, but are {x} and {y}")
    return TensorShape(out)


def check_same_dtype(inputs):
    """All inputs share one dtype; ValueError naming both otherwise."""
    first = inputs[0].dtype.base_dtype
    for t in inputs[1:]:
        if t.dtype.base_dtype != first:
            raise DTypeMismatchError(f"Input dtypes differ: {first.name} vs {t.dtype.base_dtype.name}")
    return first


def same_shape(inputs, **attrs):
    """Inputs of one dtype and one shape (what each knows of it, merged): one output with both."""
    dtype = check_same_dtype(inputs)
    shape = inputs[0].shape
    for t in inputs[1:]:
        if not shape.is_compatible_with(t.shape):
            raise ValueError(f"Shapes {shape} and {t.shape} are incompatible")
        shape = shape.merge_with(t.shape)
    return [(shape, dtype)]


def broadcast_binary(inputs, **attrs):
    """Two inputs of one dtype, broadcast against each other (add, mul, maximum, ...)."""
    dtype = check_same_dtype(inputs)
    return [(broadcast_shape(inputs[0].shape, inputs[1].shape), dtype)]


def broadcast_compare(inputs, **attrs):
    """Like broadcast_binary, but the result is bool (less, equal, ...)."""
    check_same_dtype(inputs)
    return [(broadcast_shape(inputs[0].shape, inputs[1].shape), dtypes.bool)]


def normalize_axis(axis, rank, op_name=""):
    """Turn a possibly negative axis into 0..rank-1, with a clear ValueError when out of range."""
    if rank is None:
        return axis
    if not -rank <= axis < rank:
        raise ValueError(f"axis {axis} is out of bounds for a tensor of rank {rank}")
    return axis % rank
