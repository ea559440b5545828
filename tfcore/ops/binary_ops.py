"""Elementwise math functions of two tensors, with broadcasting: pow, maximum, minimum,
squared_difference, floordiv (and TF1's div) and floormod.

Each op is one block: public wrapper, shape function, kernel (against `ctx.xp`), gradient. A
gradient sums back over the axes an input was broadcast along (`unbroadcast`). The functions of one
tensor are in elementwise_ops.py; the four arithmetic operations in math_ops.py.
"""

from tfcore.framework import errors
from tfcore.framework.common_shapes import broadcast_binary
from tfcore.framework.graph import convert_to_tensor
from tfcore.framework.registry import NotDifferentiable, register_gradient, register_op
from tfcore.ops.array_ops import ones_like, unbroadcast, zeros_like
from tfcore.ops.comparison_ops import greater, greater_equal, less_equal, where
from tfcore.ops.elementwise_ops import log
from tfcore.ops.math_ops import _binary, _scalar, multiply, negative, real_div, subtract

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = [
    "pow", "maximum", "minimum", "squared_difference", "floordiv", "floor_div", "div", "floormod", "mod",
]


# ================================================================================================
# Binary elementwise ops: Pow, Maximum, Minimum, SquaredDifference, FloorDiv (and TF1's div), FloorMod
# ================================================================================================


def pow(x, y, name=None):  # noqa: A001 - TF's name
    """x ** y, elementwise with broadcasting."""
    return _binary("Pow", x, y, name)


register_op("Pow", shape=broadcast_binary, kernel=lambda ctx, x, y: ctx.xp.power(x, y))


@register_gradient("Pow")
def _PowGrad(op, grad):
    """For z = x^y: dz/dx = y x^(y-1) and dz/dy = z log(x).

    NOTE: as in TF, dz/dy is taken as 0 where x <= 0 (log x is undefined there).
    """
    x, y = op.inputs
    z = op.outputs[0]
    gx = multiply(grad, multiply(y, pow(x, subtract(y, _scalar(1, y)))))
    positive = greater(x, zeros_like(x))
    log_x = where(positive, log(where(positive, x, ones_like(x))), zeros_like(x))
    gy = multiply(grad, multiply(z, log_x))
    return [unbroadcast(gx, x), unbroadcast(gy, y)]


def maximum(x, y, name=None):
    """The larger of x and y, elementwise with broadcasting."""
    return _binary("Maximum", x, y, name)


def minimum(x, y, name=None):
    """The smaller of x and y, elementwise with broadcasting."""
    return _binary("Minimum", x, y, name)


register_op("Maximum", shape=broadcast_binary, kernel=lambda ctx, x, y: ctx.xp.maximum(x, y))
register_op("Minimum", shape=broadcast_binary, kernel=lambda ctx, x, y: ctx.xp.minimum(x, y))


def _select_grad(grad, x, y, x_wins):
    zeros = zeros_like(grad)
    return [unbroadcast(where(x_wins, grad, zeros), x), unbroadcast(where(x_wins, zeros, grad), y)]


@register_gradient("Maximum")
def _MaximumGrad(op, grad):
    """The gradient goes to whichever input is the maximum; NOTE: on ties (x == y) it goes to x."""
    x, y = op.inputs
    return _select_grad(grad, x, y, greater_equal(x, y))


@register_gradient("Minimum")
def _MinimumGrad(op, grad):
    """The gradient goes to whichever input is the minimum; NOTE: on ties (x == y) it goes to x."""
    x, y = op.inputs
    return _select_grad(grad, x, y, less_equal(x, y))


def squared_difference(x, y, name=None):
    """(x - y)^2, elementwise with broadcasting."""
    return _binary("SquaredDifference", x, y, name)


def _squared_difference_kernel(ctx, x, y):
    xp = ctx.xp
    d = xp.subtract(x, y)
    return d * d


register_op("SquaredDifference", shape=broadcast_binary, kernel=_squared_difference_kernel)


@register_gradient("SquaredDifference")
def _SquaredDifferenceGrad(op, grad):
    """d(x - y)^2 = 2 (x - y) (dx - dy)."""
    x, y = op.inputs
    gx = multiply(multiply(_scalar(2, grad), grad), subtract(x, y))
    return [unbroadcast(gx, x), unbroadcast(negative(gx), y)]


def floordiv(x, y, name=None):
    """floor(x / y), elementwise with broadcasting (Python's `//`: rounds toward -inf)."""
    return _binary("FloorDiv", x, y, name or "floordiv")


def floor_div(x, y, name=None):
    """The FloorDiv op itself (named "FloorDiv"); see floordiv."""
    return _binary("FloorDiv", x, y, name)


def div(x, y, name=None):
    """TF1 `tf.div`: floor division for integers, true division for floats."""
    x = convert_to_tensor(x, name="x")
    if x.dtype.base_dtype.is_integer:
        return floordiv(x, y, name=name)
    return real_div(x, y, name=name)


def _check_integer_divisor(xp, y):
    if y.dtype.kind in "iu" and bool((y == 0).any()):
        raise errors.InvalidArgumentError(None, None, "Integer division by zero")


def _floor_div_kernel(ctx, x, y):
    xp = ctx.xp
    _check_integer_divisor(xp, y)
    if x.dtype.kind == "f":
        return xp.floor(xp.true_divide(x, y))  # NOTE: TF floors the rounded quotient x / y
    return xp.floor_divide(x, y)


register_op("FloorDiv", shape=broadcast_binary, kernel=_floor_div_kernel)
NotDifferentiable("FloorDiv")


def floormod(x, y, name=None):
    """x - floor(x / y) * y: the remainder with the sign of y (Python's `%`)."""
    return _binary("FloorMod", x, y, name)


mod = floormod


def _floor_mod_kernel(ctx, x, y):
    xp = ctx.xp
    _check_integer_divisor(xp, y)
    if x.dtype.kind != "f":
        return xp.mod(x, y)
    remainder = xp.fmod(x, y)  # sign of x; move it to the sign of y where they differ
    return xp.where((remainder != 0) & ((remainder < 0) != (y < 0)), remainder + y, remainder)


register_op("FloorMod", shape=broadcast_binary, kernel=_floor_mod_kernel)


@register_gradient("FloorMod")
def _FloorModGrad(op, grad):
    """x mod y = x - floor(x / y) y: d/dx = 1 and d/dy = -floor(x / y) (away from the jumps)."""
    x, y = op.inputs
    return [unbroadcast(grad, x), unbroadcast(multiply(negative(grad), floor_div(x, y)), y)]
