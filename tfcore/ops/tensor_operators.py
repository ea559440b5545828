"""Python's operators on tensors: importing this module makes `a + b`, `2 * x`, `x ** 2`, `x < y`,
`mask & other`, `~mask`, `abs(x)` and `-x` build ops, named as TensorFlow names them.

(`x[...]` is installed by slicing_ops.py, next to the StridedSlice op it builds.)
"""

from tfcore.framework import dtypes
from tfcore.framework.graph import Tensor, convert_to_tensor, get_default_graph
from tfcore.ops.binary_ops import floordiv, floormod, pow
from tfcore.ops.comparison_ops import (
    greater,
    greater_equal,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
)
from tfcore.ops.elementwise_ops import abs
from tfcore.ops.math_ops import (
    _binary,
    _convert_operand,
    _unary,
    add,
    matmul,
    multiply,
    negative,
    subtract,
    truediv,
)

__all__ = []  # nothing to export: the operators are methods of Tensor


# ================================================================================================
# Operators on tensors: `a + b` builds an op named "add", `2 * x` one named "mul", ...
# ================================================================================================


def _binary_operator(fn, op_name):
    def forward(x, y):
        with get_default_graph().name_scope(op_name) as scope:
            x = convert_to_tensor(x, name="x")
            y = _convert_operand(y, x.dtype.base_dtype, op_name) if not isinstance(y, Tensor) else y
            return fn(x, y, name=scope)

    def reverse(y, x):
        with get_default_graph().name_scope(op_name) as scope:
            x = _convert_operand(x, y.dtype.base_dtype, op_name, name="x")
            return fn(x, y, name=scope)
    return forward, reverse


def overload_operator(operator, fn, op_name):
    """Install `fn` as Tensor.__<operator>__ (and the reflected __r<operator>__)."""
    forward, reverse = _binary_operator(fn, op_name)
    setattr(Tensor, f"__{operator}__", forward)
    setattr(Tensor, f"__r{operator}__", reverse)


overload_operator("add", add, "add")
overload_operator("sub", subtract, "sub")
overload_operator("mul", multiply, "mul")
overload_operator("truediv", truediv, "truediv")
overload_operator("matmul", matmul, "matmul")
Tensor.__neg__ = lambda self: negative(self)


def _logical_or_bitwise(logical, bitwise_type):
    """`&`, `|`, `^`: the logical op for bool tensors, the bitwise op for integer ones."""
    def operator(x, y, name=None):
        if x.dtype.base_dtype == dtypes.bool:
            return logical(x, y, name=name)
        return _binary(bitwise_type, x, y, name)
    return operator


def _invert(x):
    """`~x`: logical NOT for bool tensors, bitwise NOT for integer ones."""
    if x.dtype.base_dtype == dtypes.bool:
        return logical_not(x)
    return _unary("Invert", x, None)


overload_operator("pow", pow, "pow")
overload_operator("floordiv", floordiv, "floordiv")
overload_operator("mod", floormod, "mod")
overload_operator("and", _logical_or_bitwise(logical_and, "BitwiseAnd"), "and")
overload_operator("or", _logical_or_bitwise(logical_or, "BitwiseOr"), "or")
overload_operator("xor", _logical_or_bitwise(logical_xor, "BitwiseXor"), "xor")
# NOTE: `==` and `!=` stay identity tests (tensors are dict keys); comparisons build ops named as TF's.
Tensor.__lt__ = lambda self, other: less(self, other)
Tensor.__le__ = lambda self, other: less_equal(self, other)
Tensor.__gt__ = lambda self, other: greater(self, other)
Tensor.__ge__ = lambda self, other: greater_equal(self, other)
Tensor.__invert__ = _invert
Tensor.__abs__ = lambda self: abs(self)
