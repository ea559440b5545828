"""Data types: `tf.float32` and friends, and the rules that turn Python values into them.

A `DType` wraps a NumPy dtype and knows the TensorFlow name. Ref dtypes (`float32_ref`) exist only
for printing variables the way TF1 does.
"""

import builtins

import numpy as np


class DType:
    """A tensor element type, e.g. `tf.float32`."""

    def __init__(self, name, numpy_dtype, is_ref=False):
        self._name = name
        self._np = np.dtype(numpy_dtype) if numpy_dtype is not None else None
        self._is_ref = is_ref

    @property
    def name(self):
        return self._name + ("_ref" if self._is_ref else "")

    @property
    def as_numpy_dtype(self):
        return self._np.type if self._np is not None else object

    @property
    def base_dtype(self):
        return _BY_NAME[self._name] if self._is_ref else self

    def _as_ref(self):
        return DType(self._name, self._np, is_ref=True)

    @property
    def is_floating(self):
        return self._np is not None and self._np.kind == "f"

    @property
    def is_integer(self):
        return self._np is not None and self._np.kind in "iu"

    @property
    def is_bool(self):
        return self._name == "bool"

    @property
    def is_numeric(self):
        return self.is_floating or self.is_integer

    @property
    def size(self):
        return self._np.itemsize if self._np is not None else 1

    @property
    def min(self):
        return np.finfo(self._np).min if self.is_floating else np.iinfo(self._np).min

    @property
    def max(self):
        return np.finfo(self._np).max if self.is_floating else np.iinfo(self._np).max

    def __eq__(self, other):
        try:
            other = as_dtype(other)
        except TypeError:
            return NotImplemented
        return self.name == other.name

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return f"tf.{self.name}"

    def __str__(self):
        return f"<dtype: '{self.name}'>"


float16 = half = DType("float16", np.float16)
float32 = DType("float32", np.float32)
float64 = double = DType("float64", np.float64)
int8 = DType("int8", np.int8)
int16 = DType("int16", np.int16)
int32 = DType("int32", np.int32)
int64 = DType("int64", np.int64)
uint8 = DType("uint8", np.uint8)
bool = DType("bool", np.bool_)  # noqa: A001 - TF's name
string = DType("string", np.object_)

_BY_NAME = {d._name: d for d in (float16, float32, float64, int8, int16, int32, int64, uint8, bool, string)}
_ALIASES = {"float": float32, "double": float64, "half": float16, "int": int32, "long": int64}


def as_dtype(value):
    """Turn `value` (a DType, a TF name such as ``"float"``, a NumPy dtype or type) into a DType."""
    if isinstance(value, DType):
        return value
    if isinstance(value, str):
        if value.endswith("_ref"):
            return as_dtype(value[:-4])._as_ref()
        if value in _ALIASES:
            return _ALIASES[value]
        if value in _BY_NAME:
            return _BY_NAME[value]
    if value is str or value is bytes:
        return string
    try:
        npd = np.dtype(value)
    except TypeError:
        raise TypeError(f"Cannot convert {value!r} to a tfcore dtype.") from None
    if npd.kind in "USO":
        return string
    for d in _BY_NAME.values():
        if d._np == npd:
            return d
    raise TypeError(f"tfcore has no dtype for NumPy dtype {npd}.")


def infer_dtype(value):
    """The dtype TF picks for a Python or NumPy value: Python floats become float32, ints int32."""
    if isinstance(value, np.ndarray | np.generic):
        if value.dtype.kind in "USO":
            return string
        return as_dtype(value.dtype)
    if isinstance(value, builtins.bool | np.bool_):
        return bool
    if isinstance(value, int):
        return int32
    if isinstance(value, float):
        return float32
    if isinstance(value, str | bytes):
        return string
    if isinstance(value, list | tuple):
        if len(value) == 0:
            return float32
        kinds = [infer_dtype(v) for v in value]
        for candidate in (string, float32, int32, bool):
            if candidate in kinds:
                return candidate
        return kinds[0]
    raise TypeError(f"Cannot infer a dtype for {type(value).__name__} {value!r}.")



def string_array(value, what="a string tensor"):
    """`value` (str, bytes, or nested lists or arrays of them) as TF holds strings: a NumPy object
    array of `bytes`, each str encoded as UTF-8 (so fetching ``tf.constant('Hello')`` gives
    ``b'Hello'``). Raises TypeError naming `what` for anything that is not a string."""
    array = np.array(value, dtype=object)
    flat = array.reshape(-1)
    for i, item in enumerate(flat):
        if isinstance(item, str):
            flat[i] = item.encode("utf-8")
        elif isinstance(item, bytes):
            flat[i] = builtins.bytes(item)  # np.bytes_ becomes plain bytes
        else:
            raise TypeError(f"Expected string for {what}, got {item!r} of type '{type(item).__name__}' "
                            "instead.")
    return array
