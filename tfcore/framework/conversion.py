"""Converting Python values, NumPy arrays, Variables and lists of tensors to Tensors.

`convert_to_tensor` passes Tensors through and asks the conversion functions registered for a
value's type (Variables register theirs). The two conversions every op wrapper relies on are
registered by the ops layer, which owns the ops they build: a list holding tensors packs them
(`Pack`, registered by tfcore/ops/join_ops.py) and any other value becomes a constant (`Const`,
registered by tfcore/ops/constant_op.py).
"""

from tfcore.framework import dtypes as _dtypes
from tfcore.framework.errors import DTypeMismatchError
from tfcore.framework.tensor import Operation, Tensor

_conversion_functions = []  # (type, fn) for Variables and other tensor-likes
# How values that are not tensors become tensors, registered by the ops layer (see above).
_builders = {"pack": None, "constant": None}


def register_tensor_conversion_function(base_type, conversion_func):
    """Make `convert_to_tensor` call ``conversion_func(value, dtype=, name=)`` for `base_type`."""
    _conversion_functions.append((base_type, conversion_func))


def register_value_conversion(kind, builder):
    """Set how values that are not tensors become tensors: ``"pack"``, lists holding tensors
    (``builder(values, name=)``), or ``"constant"``, any other Python or NumPy value
    (``builder(value, dtype=, name=)``). The ops layer registers both, once."""
    if kind not in _builders:
        raise ValueError(f"register_value_conversion: kind must be 'pack' or 'constant', not {kind!r}")
    _builders[kind] = builder


def convert_to_tensor(value, dtype=None, name=None, preferred_dtype=None):
    """Return `value` as a Tensor: tensors pass through (dtype checked), values become constants."""
    if dtype is not None:
        dtype = _dtypes.as_dtype(dtype).base_dtype
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype.base_dtype != dtype:
            raise DTypeMismatchError(f"Tensor conversion requested dtype {dtype.name} for Tensor with dtype "
                                     f"{value.dtype.name}: {value}")
        return value
    for base_type, fn in _conversion_functions:
        if isinstance(value, base_type):
            return fn(value, dtype=dtype, name=name)
    if isinstance(value, Operation):
        raise TypeError(f"Can't convert Operation '{value.name}' to Tensor.")
    if isinstance(value, list | tuple) and any(isinstance(v, Tensor) or _is_tensor_like(v)
                                                for v in value):
        return _builders["pack"](value, name=name or "packed")  # a list holding tensors packs them
    constant = _builders["constant"]
    if dtype is None and preferred_dtype is not None:
        try:
            return constant(value, dtype=preferred_dtype, name=name or "Const")
        except (TypeError, ValueError):
            pass
    return constant(value, dtype=dtype, name=name or "Const")


def _is_tensor_like(value):
    return any(isinstance(value, t) for t, _ in _conversion_functions) or (
        isinstance(value, list | tuple) and any(_is_tensor_like(v) for v in value))


def is_tensor(value):
    """True for a Tensor, a Variable (or other registered tensor-like) or a list holding one."""
    return isinstance(value, Tensor) or _is_tensor_like(value)
