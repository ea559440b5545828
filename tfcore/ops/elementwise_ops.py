"""Elementwise math functions of one tensor: square, sqrt, exp, log, abs, sign, sigmoid, tanh,
rounding, is_nan, ...

Each op is one block: public wrapper, shape function, kernel (against `ctx.xp`), gradient. The
functions of two tensors (pow, maximum, minimum, squared_difference, floordiv, floormod) are in
binary_ops.py; the four arithmetic operations (add, subtract, multiply, divide) in math_ops.py.
"""

from tfcore.framework import dtypes
from tfcore.framework.registry import NotDifferentiable, register_gradient, register_op
from tfcore.ops.array_ops import zeros_like
from tfcore.ops.math_ops import (
    _FLOATS,
    _NUMBERS,
    _scalar,
    _unary,
    _unary_shape,
    add,
    multiply,
    negative,
    real_div,
    subtract,
)

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = [
    "square", "sqrt", "rsqrt", "exp", "log", "log1p", "abs", "sign", "reciprocal", "sigmoid", "tanh",
    "floor", "ceil", "round", "is_finite", "is_nan", "is_inf",
]


# ================================================================================================
# Unary elementwise ops: Square, Sqrt, Rsqrt, Exp, Log, Log1p, Abs, Sign, Reciprocal, Sigmoid,
# Tanh, Floor, Ceil, Round. Each gradient is written in terms of the input x or the output y.
# ================================================================================================


def square(x, name=None):
    """x * x, elementwise."""
    return _unary("Square", x, name)


register_op("Square", shape=_unary_shape(_NUMBERS), kernel=lambda ctx, x: ctx.xp.multiply(x, x))


@register_gradient("Square")
def _SquareGrad(op, grad):
    """d(x^2)/dx = 2x."""
    x = op.inputs[0]
    return [multiply(grad, multiply(x, _scalar(2, x)))]


def sqrt(x, name=None):
    """The square root of x, elementwise."""
    return _unary("Sqrt", x, name)


register_op("Sqrt", shape=_unary_shape(_FLOATS), kernel=lambda ctx, x: ctx.xp.sqrt(x))


@register_gradient("Sqrt")
def _SqrtGrad(op, grad):
    """d(sqrt x)/dx = 0.5 / y, written with the output y = sqrt(x) (infinite at x = 0)."""
    y = op.outputs[0]
    return [real_div(multiply(grad, _scalar(0.5, y)), y)]


def rsqrt(x, name=None):
    """1 / sqrt(x), elementwise."""
    return _unary("Rsqrt", x, name)


register_op("Rsqrt", shape=_unary_shape(_FLOATS), kernel=lambda ctx, x: ctx.xp.reciprocal(ctx.xp.sqrt(x)))


@register_gradient("Rsqrt")
def _RsqrtGrad(op, grad):
    """d(x^-1/2)/dx = -0.5 x^-3/2 = -0.5 y^3."""
    y = op.outputs[0]
    return [multiply(grad, multiply(_scalar(-0.5, y), multiply(square(y), y)))]


def exp(x, name=None):
    """e^x, elementwise."""
    return _unary("Exp", x, name)


register_op("Exp", shape=_unary_shape(_FLOATS), kernel=lambda ctx, x: ctx.xp.exp(x))


@register_gradient("Exp")
def _ExpGrad(op, grad):
    """d(e^x)/dx = e^x = y."""
    return [multiply(grad, op.outputs[0])]


def log(x, name=None):
    """The natural logarithm of x, elementwise (NaN for x < 0, -inf at 0)."""
    return _unary("Log", x, name)


register_op("Log", shape=_unary_shape(_FLOATS), kernel=lambda ctx, x: ctx.xp.log(x))


@register_gradient("Log")
def _LogGrad(op, grad):
    """d(log x)/dx = 1 / x."""
    return [multiply(grad, reciprocal(op.inputs[0]))]


def log1p(x, name=None):
    """log(1 + x), accurate for small x."""
    return _unary("Log1p", x, name)


register_op("Log1p", shape=_unary_shape(_FLOATS), kernel=lambda ctx, x: ctx.xp.log1p(x))


@register_gradient("Log1p")
def _Log1pGrad(op, grad):
    """d(log(1 + x))/dx = 1 / (1 + x)."""
    x = op.inputs[0]
    return [multiply(grad, reciprocal(add(_scalar(1, x), x)))]


def abs(x, name=None):  # noqa: A001 - TF's name
    """|x|, elementwise."""
    return _unary("Abs", x, name)


register_op("Abs", shape=_unary_shape(_NUMBERS), kernel=lambda ctx, x: ctx.xp.abs(x))


@register_gradient("Abs")
def _AbsGrad(op, grad):
    """d|x|/dx = sign(x); NOTE: 0 at x = 0, as in TF."""
    return [multiply(grad, sign(op.inputs[0]))]


def sign(x, name=None):
    """-1, 0 or 1 according to the sign of x."""
    return _unary("Sign", x, name)


register_op("Sign", shape=_unary_shape(_NUMBERS), kernel=lambda ctx, x: ctx.xp.sign(x))


@register_gradient("Sign")
def _SignGrad(op, grad):
    """sign is flat wherever it is differentiable: the gradient is zero (also at 0, as in TF)."""
    return [zeros_like(op.inputs[0])]


def reciprocal(x, name=None):
    """1 / x, elementwise."""
    return _unary("Reciprocal", x, name)


def _reciprocal_kernel(ctx, x):
    xp = ctx.xp
    return xp.reciprocal(x) if x.dtype.kind == "f" else (1 // x).astype(x.dtype)


register_op("Reciprocal", shape=_unary_shape(_NUMBERS), kernel=_reciprocal_kernel)


@register_gradient("Reciprocal")
def _ReciprocalGrad(op, grad):
    """d(1/x)/dx = -1/x^2 = -y^2."""
    return [negative(multiply(grad, square(op.outputs[0])))]


def sigmoid(x, name=None):
    """1 / (1 + e^-x), elementwise."""
    return _unary("Sigmoid", x, name)


def _sigmoid_kernel(ctx, x):
    # NOTE: e^-|x| never overflows, so both halves of the formula are stable.
    xp = ctx.xp
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


register_op("Sigmoid", shape=_unary_shape(_FLOATS), kernel=_sigmoid_kernel)


@register_gradient("Sigmoid")
def _SigmoidGrad(op, grad):
    """d(sigmoid x)/dx = y (1 - y), with the output y."""
    y = op.outputs[0]
    return [multiply(grad, multiply(y, subtract(_scalar(1, y), y)))]


def tanh(x, name=None):
    """The hyperbolic tangent of x, elementwise."""
    return _unary("Tanh", x, name)


register_op("Tanh", shape=_unary_shape(_FLOATS), kernel=lambda ctx, x: ctx.xp.tanh(x))


@register_gradient("Tanh")
def _TanhGrad(op, grad):
    """d(tanh x)/dx = 1 - y^2, with the output y."""
    y = op.outputs[0]
    return [multiply(grad, subtract(_scalar(1, y), square(y)))]


def floor(x, name=None):
    """The largest integer not greater than x, elementwise."""
    return _unary("Floor", x, name)


def ceil(x, name=None):
    """The smallest integer not less than x, elementwise."""
    return _unary("Ceil", x, name)


def round(x, name=None):  # noqa: A001 - TF's name
    """x rounded to the nearest integer; NOTE: halves go to the even neighbour (0.5 -> 0, 1.5 -> 2)."""
    return _unary("Round", x, name)


register_op("Floor", shape=_unary_shape(_FLOATS), kernel=lambda ctx, x: ctx.xp.floor(x))
register_op("Ceil", shape=_unary_shape(_FLOATS), kernel=lambda ctx, x: ctx.xp.ceil(x))
register_op("Round", shape=_unary_shape(_NUMBERS),
            kernel=lambda ctx, x: ctx.xp.round(x) if x.dtype.kind == "f" else x)
# Piecewise constant: TF gives no gradient (None), not zeros.
NotDifferentiable("Floor")
NotDifferentiable("Ceil")
NotDifferentiable("Round")


def is_finite(x, name=None):
    """True where x is neither infinite nor NaN."""
    return _unary("IsFinite", x, name)


def is_nan(x, name=None):
    """True where x is NaN."""
    return _unary("IsNan", x, name)


def is_inf(x, name=None):
    """True where x is +inf or -inf."""
    return _unary("IsInf", x, name)


def _float_to_bool_shape(inputs):
    return [(_unary_shape(_FLOATS)(inputs)[0][0], dtypes.bool)]


register_op("IsFinite", shape=_float_to_bool_shape, kernel=lambda ctx, x: ctx.xp.isfinite(x))
register_op("IsNan", shape=_float_to_bool_shape, kernel=lambda ctx, x: ctx.xp.isnan(x))
register_op("IsInf", shape=_float_to_bool_shape, kernel=lambda ctx, x: ctx.xp.isinf(x))
NotDifferentiable("IsFinite")
NotDifferentiable("IsNan")
NotDifferentiable("IsInf")
