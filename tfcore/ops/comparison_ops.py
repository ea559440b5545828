"""Comparisons, logical and bitwise ops (elementwise, with broadcasting), and `where`, which picks
elements by a bool condition.

Comparisons give bool tensors and have no gradient; `where` passes each element's gradient to the
input it was taken from.
"""

from tfcore.framework import dtypes
from tfcore.framework.common_shapes import broadcast_binary, broadcast_compare, check_same_dtype
from tfcore.framework.graph import Tensor, apply_op, convert_to_tensor, get_default_graph
from tfcore.framework.registry import NotDifferentiable, register_gradient, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.ops.array_ops import zeros_like
from tfcore.ops.math_ops import _binary, _convert_operand, _require_dtypes, _unary, _unary_shape

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = [
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_not", "logical_xor",
    "where",
]


# ================================================================================================
# Comparisons (bool results, broadcasting) and logical ops
# ================================================================================================


def equal(x, y, name=None):
    """x == y, elementwise with broadcasting (a bool tensor)."""
    return _binary("Equal", x, y, name)


def not_equal(x, y, name=None):
    """x != y, elementwise with broadcasting (a bool tensor)."""
    return _binary("NotEqual", x, y, name)


def less(x, y, name=None):
    """x < y, elementwise with broadcasting (a bool tensor)."""
    return _binary("Less", x, y, name)


def less_equal(x, y, name=None):
    """x <= y, elementwise with broadcasting (a bool tensor)."""
    return _binary("LessEqual", x, y, name)


def greater(x, y, name=None):
    """x > y, elementwise with broadcasting (a bool tensor)."""
    return _binary("Greater", x, y, name)


def greater_equal(x, y, name=None):
    """x >= y, elementwise with broadcasting (a bool tensor)."""
    return _binary("GreaterEqual", x, y, name)


register_op("Equal", shape=broadcast_compare, kernel=lambda ctx, x, y: ctx.xp.equal(x, y))
register_op("NotEqual", shape=broadcast_compare, kernel=lambda ctx, x, y: ctx.xp.not_equal(x, y))
register_op("Less", shape=broadcast_compare, kernel=lambda ctx, x, y: ctx.xp.less(x, y))
register_op("LessEqual", shape=broadcast_compare, kernel=lambda ctx, x, y: ctx.xp.less_equal(x, y))
register_op("Greater", shape=broadcast_compare, kernel=lambda ctx, x, y: ctx.xp.greater(x, y))
register_op("GreaterEqual", shape=broadcast_compare, kernel=lambda ctx, x, y: ctx.xp.greater_equal(x, y))
for _type in ("Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual"):
    NotDifferentiable(_type)


def _logical_shape(op_type):
    def shape(inputs):
        _require_dtypes(op_type, inputs, ("bool",), "bool")
        return broadcast_compare(inputs)
    return shape


def logical_and(x, y, name=None):
    """x AND y for bool tensors, elementwise with broadcasting."""
    return _binary("LogicalAnd", x, y, name)


def logical_or(x, y, name=None):
    """x OR y for bool tensors, elementwise with broadcasting."""
    return _binary("LogicalOr", x, y, name)


def logical_not(x, name=None):
    """NOT x for a bool tensor."""
    return _unary("LogicalNot", x, name)


def logical_xor(x, y, name="LogicalXor"):
    """x XOR y for bool tensors, built as (x OR y) AND NOT (x AND y)."""
    with get_default_graph().name_scope(name) as scope:
        return logical_and(logical_or(x, y), logical_not(logical_and(x, y)), name=scope)


register_op("LogicalAnd", shape=_logical_shape("LogicalAnd"),
            kernel=lambda ctx, x, y: ctx.xp.logical_and(x, y))
register_op("LogicalOr", shape=_logical_shape("LogicalOr"), kernel=lambda ctx, x, y: ctx.xp.logical_or(x, y))
register_op("LogicalNot", shape=_unary_shape(("bool",)), kernel=lambda ctx, x: ctx.xp.logical_not(x))
for _type in ("LogicalAnd", "LogicalOr", "LogicalNot"):
    NotDifferentiable(_type)


# Bitwise ops on integers: what `&`, `|`, `^` and `~` mean for integer tensors (as in TF 2's compat.v1).
_INTEGERS = ("int8", "int16", "int32", "int64", "uint8")


def _bitwise_shape(op_type):
    def shape(inputs):
        _require_dtypes(op_type, inputs, _INTEGERS, "an integer type")
        return broadcast_binary(inputs)
    return shape


register_op("BitwiseAnd", shape=_bitwise_shape("BitwiseAnd"),
            kernel=lambda ctx, x, y: ctx.xp.bitwise_and(x, y))
register_op("BitwiseOr", shape=_bitwise_shape("BitwiseOr"), kernel=lambda ctx, x, y: ctx.xp.bitwise_or(x, y))
register_op("BitwiseXor", shape=_bitwise_shape("BitwiseXor"),
            kernel=lambda ctx, x, y: ctx.xp.bitwise_xor(x, y))
register_op("Invert", shape=_unary_shape(_INTEGERS), kernel=lambda ctx, x: ctx.xp.invert(x))
for _type in ("BitwiseAnd", "BitwiseOr", "BitwiseXor", "Invert"):
    NotDifferentiable(_type)


# ================================================================================================
# where: Where (coordinates of true elements) and Select (pick from x or y)
# ================================================================================================


def where(condition, x=None, y=None, name=None):
    """TF1's where: with only `condition`, the int64 coordinates [N, rank] of its true elements;
    with x and y, elements of x where condition is true and of y elsewhere.

    `condition` is either x's shape, a scalar, or (TF1 rule) a vector as long as x's first
    dimension, choosing whole rows. x and y must have the same shape (no broadcasting).
    """
    if x is None and y is None:
        return apply_op("Where", [convert_to_tensor(condition, name="condition")], name=name)
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    condition = convert_to_tensor(condition, name="condition")
    if not isinstance(x, Tensor) and isinstance(y, Tensor) and not hasattr(x, "_as_graph_element"):
        x = convert_to_tensor(x, dtype=y.dtype.base_dtype, name="x")
    else:
        x = convert_to_tensor(x, name="x")
        y = _convert_operand(y, x.dtype.base_dtype, "Select")
    return apply_op("Select", [condition, x, y], name=name)


def _where_shape(inputs):
    rank = inputs[0].shape.ndims
    return [(TensorShape([None, rank]), dtypes.int64)]


register_op("Where", shape=_where_shape,
            kernel=lambda ctx, condition: ctx.xp.argwhere(condition).astype(ctx.xp.int64))
NotDifferentiable("Where")


def _select_shape(inputs):
    condition, x, y = inputs
    _require_dtypes("Select", [condition], ("bool",), "bool")
    dtype = check_same_dtype([x, y])
    if not x.shape.is_compatible_with(y.shape):
        raise ValueError(f"Shapes must be equal, but are {x.shape} and {y.shape}")
    shape = x.shape.merge_with(y.shape)
    c = condition.shape
    if c.ndims is None or shape.ndims is None or c.ndims == 0:
        return [(shape, dtype)]
    if c.ndims == 1 and shape.ndims > 1:  # TF1: a vector condition chooses rows
        rows, n = shape[0].value, c[0].value
        if rows is not None and n is not None and rows != n:
            raise ValueError(f"Dimension 0 in both shapes must be equal, but are {n} and {rows}. "
                             f"Shapes are {c} and {shape}.")
        return [(TensorShape([rows if rows is not None else n] + shape.as_list()[1:]), dtype)]
    if not c.is_compatible_with(shape):
        raise ValueError(f"Shapes {c} and {shape} are incompatible: the condition must have the shape of x "
                         "(or be a vector as long as x's first dimension)")
    return [(shape.merge_with(c), dtype)]


def _select_kernel(ctx, condition, x, y):
    xp = ctx.xp
    if x.shape != y.shape:
        raise ValueError(f"'then' and 'else' must have the same size, but received: {x.shape} vs. {y.shape}")
    if condition.ndim == 1 and x.ndim > 1:
        if condition.shape[0] != x.shape[0]:
            raise ValueError(f"The condition has {condition.shape[0]} elements but x has {x.shape[0]} rows")
        condition = condition.reshape(condition.shape + (1,) * (x.ndim - 1))
    elif condition.ndim != 0 and condition.shape != x.shape:
        raise ValueError(f"'condition' and 'then' must have the same shape: {condition.shape} vs {x.shape}")
    return xp.where(condition, x, y)


register_op("Select", shape=_select_shape, kernel=_select_kernel)


@register_gradient("Select")
def _SelectGrad(op, grad):
    """Each element's gradient goes to the input it was taken from (x where true, y elsewhere)."""
    condition = op.inputs[0]
    zeros = zeros_like(grad)
    return [None, where(condition, grad, zeros), where(condition, zeros, grad)]
