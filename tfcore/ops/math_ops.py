"""Math ops: elementwise arithmetic, matrix products, comparisons, reductions, where, clipping, and
the operators on tensors.

Each op is one block: public wrapper, shape function, kernel (against `xp`), gradient.
Binary ops broadcast like NumPy; their gradients are summed back to each input's shape
(`unbroadcast`).
"""


import numpy as np

from tfcore.framework import dtypes, errors
from tfcore.framework.common_shapes import broadcast_binary, broadcast_compare, unchanged
from tfcore.framework.graph import Tensor, apply_op, convert_to_tensor, get_default_graph
from tfcore.framework.registry import NotDifferentiable, register_gradient, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.ops.array_ops import reshape, unbroadcast

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = [
    "add",
    "subtract",
    "multiply",
    "real_div",
    "truediv",
    "divide",
    "div",
    "negative",
    "neg",
    "add_n",
    "matmul",
    "cast",
    "to_float",
    "to_double",
    "to_int32",
    "to_int64",
    "reduce_sum",
    "reduce_mean",
    "square", "sqrt", "rsqrt", "exp", "log", "log1p", "abs", "sign", "reciprocal", "sigmoid", "tanh",
    "floor", "ceil", "round", "is_finite", "is_nan", "is_inf",
    "pow", "maximum", "minimum", "squared_difference", "floordiv", "floor_div", "floormod", "mod",
    "scalar_mul",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_not", "logical_xor",
    "reduce_max", "reduce_min", "reduce_prod", "reduce_all", "reduce_any", "reduce_logsumexp",
    "argmax", "argmin", "arg_max", "arg_min",
    "where",
    "cumsum", "cumprod",
    "clip_by_value", "clip_by_norm", "global_norm", "clip_by_global_norm",
]


def _binary(op_type, x, y, name):
    """Convert both operands (the second to the first's dtype, as TF does) and build the op.

    As in TF, Python values become constants inside the op's name scope ("Mul/y").
    """
    with get_default_graph().name_scope(name or op_type) as scope:
        if not isinstance(x, Tensor) and isinstance(y, Tensor) and not hasattr(x, "_as_graph_element"):
            x = convert_to_tensor(x, dtype=y.dtype.base_dtype, name="x")
        else:
            x = convert_to_tensor(x, name="x")
            y = _convert_operand(y, x.dtype.base_dtype, op_type)
        if x.dtype.base_dtype != y.dtype.base_dtype:
            from tfcore.framework.errors import DTypeMismatchError
            raise DTypeMismatchError(
                f"{op_type} op '{scope[:-1]}': inputs must have the same dtype, got "
                f"{x.dtype.base_dtype.name} {x.shape} and {y.dtype.base_dtype.name} {y.shape}")
        return apply_op(op_type, [x, y], name=scope)


def _convert_operand(y, dtype, op_type):
    try:
        return convert_to_tensor(y, dtype=dtype, name="y")
    except ValueError as e:
        raise type(e)(f"{op_type}: {e}") from None


# ================================================================================================
# Add, Sub, Mul, RealDiv
# ================================================================================================


def add(x, y, name=None):
    """x + y, elementwise with broadcasting."""
    return _binary("Add", x, y, name)


register_op("Add", shape=broadcast_binary, kernel=lambda xp, x, y: xp.add(x, y))


@register_gradient("Add")
def _AddGrad(op, grad):
    """d(x + y) = dx + dy: both inputs receive the gradient, un-broadcast to their shapes."""
    x, y = op.inputs
    return [unbroadcast(grad, x), unbroadcast(grad, y)]


def subtract(x, y, name=None):
    """x - y, elementwise with broadcasting."""
    return _binary("Sub", x, y, name)


register_op("Sub", shape=broadcast_binary, kernel=lambda xp, x, y: xp.subtract(x, y))


@register_gradient("Sub")
def _SubGrad(op, grad):
    """d(x - y) = dx - dy."""
    x, y = op.inputs
    return [unbroadcast(grad, x), unbroadcast(negative(grad), y)]


def multiply(x, y, name=None):
    """x * y, elementwise with broadcasting."""
    return _binary("Mul", x, y, name)


register_op("Mul", shape=broadcast_binary, kernel=lambda xp, x, y: xp.multiply(x, y))


@register_gradient("Mul")
def _MulGrad(op, grad):
    """d(x * y) = y dx + x dy."""
    x, y = op.inputs
    return [unbroadcast(multiply(grad, y), x), unbroadcast(multiply(grad, x), y)]


def real_div(x, y, name=None):
    """x / y for floating-point tensors."""
    return _binary("RealDiv", x, y, name)


register_op("RealDiv", shape=broadcast_binary, kernel=lambda xp, x, y: xp.true_divide(x, y))


@register_gradient("RealDiv")
def _RealDivGrad(op, grad):
    """d(x / y) = dx / y - x dy / y^2."""
    x, y = op.inputs
    return [unbroadcast(real_div(grad, y), x),
            unbroadcast(multiply(grad, real_div(real_div(negative(x), y), y)), y)]


def truediv(x, y, name=None):
    """Python 3 division: integers are cast to floats first (int32 -> float64, as in TF)."""
    x = convert_to_tensor(x, name="x")
    y = convert_to_tensor(y, dtype=x.dtype.base_dtype, name="y")
    if x.dtype.base_dtype.is_integer:
        target = dtypes.float64 if x.dtype.base_dtype.size >= 4 else dtypes.float32
        x, y = cast(x, target), cast(y, target)
    return real_div(x, y, name=name)


divide = truediv


def div(x, y, name=None):
    """TF1 `tf.div`: floor division for integers, true division for floats."""
    x = convert_to_tensor(x, name="x")
    if x.dtype.base_dtype.is_integer:
        return floordiv(x, y, name=name)
    return real_div(x, y, name=name)


# ================================================================================================
# Neg
# ================================================================================================


def negative(x, name=None):
    """-x."""
    return apply_op("Neg", [convert_to_tensor(x)], name=name)


register_op("Neg", shape=unchanged, kernel=lambda xp, x: xp.negative(x))


@register_gradient("Neg")
def _NegGrad(op, grad):
    """d(-x) = -dx."""
    return [negative(grad)]


neg = negative


# ================================================================================================
# AddN
# ================================================================================================


def add_n(inputs, name=None):
    """The elementwise sum of a list of same-shaped tensors."""
    inputs = [convert_to_tensor(t) for t in inputs]
    if not inputs:
        raise ValueError("add_n: inputs must be a non-empty list of tensors")
    if len(inputs) == 1:
        return inputs[0] if name is None else apply_op("Identity", inputs, name=name)
    return apply_op("AddN", inputs, name=name)


def _add_n_shape(inputs):
    from tfcore.framework.common_shapes import check_same_dtype
    dtype = check_same_dtype(inputs)
    shape = inputs[0].shape
    for t in inputs[1:]:
        if not shape.is_compatible_with(t.shape):
            raise ValueError(f"Shapes must be equal: {shape} and {t.shape}")
        shape = shape.merge_with(t.shape)
    return [(shape, dtype)]


def _add_n_kernel(xp, *xs):
    total = xs[0] + xs[1]
    for x in xs[2:]:
        total += x  # `total` is a fresh array here, so adding in place is safe
    return total


register_op("AddN", shape=_add_n_shape, kernel=_add_n_kernel)


@register_gradient("AddN")
def _AddNGrad(op, grad):
    """Every input receives the gradient unchanged."""
    return [grad] * len(op.inputs)


# ================================================================================================
# MatMul
# ================================================================================================


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, name=None):
    """The matrix product of two rank-2 tensors (optionally transposed first)."""
    a = convert_to_tensor(a, name="a")
    b = _convert_operand(b, a.dtype.base_dtype, "MatMul")
    return apply_op("MatMul", [a, b], {"transpose_a": bool(transpose_a or adjoint_a),
                                       "transpose_b": bool(transpose_b or adjoint_b)}, name=name)


def _matmul_shape(inputs, transpose_a, transpose_b):
    from tfcore.framework.common_shapes import check_same_dtype
    a, b = inputs
    dtype = check_same_dtype(inputs)
    if a.shape.ndims not in (None, 2) or b.shape.ndims not in (None, 2):
        bad = a.shape.ndims if a.shape.ndims != 2 else b.shape.ndims
        raise ValueError(f"Shape must be rank 2 but is rank {bad}")
    if a.shape.ndims is None or b.shape.ndims is None:
        return [(TensorShape([None, None]), dtype)]
    m, k1 = a.shape.as_list()[::-1] if transpose_a else a.shape.as_list()
    k2, n = b.shape.as_list()[::-1] if transpose_b else b.shape.as_list()
    if k1 is not None and k2 is not None and k1 != k2:
        raise ValueError(f"Dimensions must be equal, but are {k1} and {k2}")
    return [(TensorShape([m, n]), dtype)]


def _matmul_kernel(xp, a, b, transpose_a, transpose_b):
    return xp.matmul(a.T if transpose_a else a, b.T if transpose_b else b)


register_op("MatMul", shape=_matmul_shape, kernel=_matmul_kernel)


@register_gradient("MatMul")
def _MatMulGrad(op, grad):
    """For C = A B: dA = dC B^T and dB = A^T dC (with the transposes folded in)."""
    a, b = op.inputs
    ta, tb = op.get_attr("transpose_a"), op.get_attr("transpose_b")
    if not ta and not tb:
        return [matmul(grad, b, transpose_b=True), matmul(a, grad, transpose_a=True)]
    if not ta and tb:
        return [matmul(grad, b), matmul(grad, a, transpose_a=True)]
    if ta and not tb:
        return [matmul(b, grad, transpose_b=True), matmul(a, grad)]
    return [matmul(b, grad, transpose_a=True, transpose_b=True),
            matmul(grad, a, transpose_a=True, transpose_b=True)]


# ================================================================================================
# Cast
# ================================================================================================


def cast(x, dtype, name=None):
    """`x` converted to `dtype` (floats to ints truncate toward zero; bools become 0/1)."""
    x = convert_to_tensor(x)
    dtype = dtypes.as_dtype(dtype).base_dtype
    if x.dtype.base_dtype == dtype:
        return x  # as in TF: no op at all
    return apply_op("Cast", [x], {"DstT": dtype}, name=name or "Cast")


register_op("Cast", shape=lambda inputs, DstT: [(inputs[0].shape, DstT)],
            kernel=lambda xp, x, DstT: x.astype(DstT.as_numpy_dtype))


@register_gradient("Cast")
def _CastGrad(op, grad):
    """Gradients pass through casts between floating types (and stop at integer ones)."""
    src = op.inputs[0].dtype.base_dtype
    if src.is_floating and grad.dtype.base_dtype.is_floating:
        return [cast(grad, src)]
    return [None]


def to_float(x, name="ToFloat"):
    return cast(x, dtypes.float32, name=name)


def to_double(x, name="ToDouble"):
    return cast(x, dtypes.float64, name=name)


def to_int32(x, name="ToInt32"):
    return cast(x, dtypes.int32, name=name)


def to_int64(x, name="ToInt64"):
    return cast(x, dtypes.int64, name=name)


# ================================================================================================
# Reductions: Sum and Mean (the others follow the same pattern)
# ================================================================================================


def _reduction_axis(x, axis, reduction_indices):
    """A tuple of non-negative axes (None = all), from ints, lists or constant tensors."""
    from tfcore.framework.graph import constant_value
    if axis is None:
        axis = reduction_indices
    if axis is None:
        return None
    if isinstance(axis, Tensor):
        value = constant_value(axis)
        if value is None:
            raise ValueError("tfcore needs the reduction axis known when the graph is built "
                             f"(got the computed tensor {axis.name}).")
        axis = value
    axes = [int(a) for a in np.reshape(np.asarray(axis), [-1])]
    rank = x.shape.ndims
    if rank is not None:
        for a in axes:
            if not -rank <= a < rank:
                raise ValueError(f"Invalid reduction dimension {a} for input with {rank} dimensions")
        axes = [a % rank for a in axes]
    return tuple(sorted(set(axes)))


def _reduced_shape(inputs, axis, keepdims):
    x = inputs[0]
    if x.shape.ndims is None:
        return TensorShape(None)
    dims = x.shape.as_list()
    axes = range(len(dims)) if axis is None else axis
    if keepdims:
        return TensorShape([1 if i in axes else d for i, d in enumerate(dims)])
    return TensorShape([d for i, d in enumerate(dims) if i not in axes])


def _reduction_shape(inputs, axis, keepdims):
    return [(_reduced_shape(inputs, axis, keepdims), inputs[0].dtype.base_dtype)]


def reduction(op_type, input_tensor, axis, keepdims, name, reduction_indices, keep_dims):
    """Build reduction `op_type` with TF's argument conventions (old names included)."""
    x = convert_to_tensor(input_tensor)
    keepdims = bool(keep_dims if keepdims is None and keep_dims is not None else keepdims)
    axes = _reduction_axis(x, axis, reduction_indices)
    return apply_op(op_type, [x], {"axis": axes, "keepdims": keepdims}, name=name)


def _keepdims_grad(op, grad):
    """`grad` reshaped so that it broadcasts against the reduction's input."""
    x = op.inputs[0]
    if op.get_attr("keepdims"):
        return grad
    axis = op.get_attr("axis")
    if x.shape.ndims is None:
        raise ValueError(f"Cannot differentiate {op.name}: its input rank is unknown")
    rank = x.shape.ndims
    axes = range(rank) if axis is None else axis
    if x.shape.is_fully_defined():
        kept = [1 if i in axes else d for i, d in enumerate(x.shape.as_list())]
        return reshape(grad, kept)
    from tfcore.ops.array_ops import shape, stack
    dyn = shape(x)
    kept = [1 if i in axes else dyn[i] for i in range(rank)]
    return reshape(grad, stack(kept))


def reduce_sum(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """Sum of elements over `axis` (all axes when None)."""
    return reduction("Sum", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


register_op("Sum", shape=_reduction_shape,
            kernel=lambda xp, x, axis, keepdims: xp.sum(x, axis=axis, keepdims=keepdims))


@register_gradient("Sum")
def _SumGrad(op, grad):
    """Each summed element receives the gradient of the sum: broadcast it back."""
    from tfcore.ops.array_ops import _shape_of, broadcast_to
    return [broadcast_to(_keepdims_grad(op, grad), _shape_of(op.inputs[0]))]


def reduce_mean(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """Mean of elements over `axis` (all axes when None)."""
    return reduction("Mean", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def _mean_kernel(xp, x, axis, keepdims):
    result = xp.mean(x, axis=axis, keepdims=keepdims)
    if x.dtype.kind in "iu":  # TF's integer mean truncates
        count = max(1, x.size // max(1, result.size))
        return (xp.sum(x, axis=axis, keepdims=keepdims) // count).astype(x.dtype)
    return result.astype(x.dtype, copy=False)


register_op("Mean", shape=_reduction_shape, kernel=_mean_kernel)


@register_gradient("Mean")
def _MeanGrad(op, grad):
    """Like Sum's gradient, divided by the number of elements averaged."""
    from tfcore.ops.array_ops import _shape_of, broadcast_to, size
    x = op.inputs[0]
    out = op.outputs[0]
    if x.shape.is_fully_defined() and out.shape.is_fully_defined():
        count = max(1, x.shape.num_elements() // max(1, out.shape.num_elements()))
        factor = convert_to_tensor(np.asarray(count, x.dtype.base_dtype.as_numpy_dtype))
    else:
        factor = cast(real_div(cast(size(x), dtypes.float64), cast(size(out), dtypes.float64)),
                      x.dtype.base_dtype)
    return [real_div(broadcast_to(_keepdims_grad(op, grad), _shape_of(x)), factor)]


# ================================================================================================
# Unary elementwise ops: Square, Sqrt, Rsqrt, Exp, Log, Log1p, Abs, Sign, Reciprocal, Sigmoid,
# Tanh, Floor, Ceil, Round. Each gradient is written in terms of the input x or the output y.
# ================================================================================================

_FLOATS = ("float16", "float32", "float64")
_NUMBERS = _FLOATS + ("int8", "int16", "int32", "int64", "uint8")


def _unary_shape(allowed):
    """The shape function of an elementwise op accepting the dtypes named in `allowed`."""
    def shape(inputs):
        x = inputs[0]
        dtype = x.dtype.base_dtype
        if dtype.name not in allowed:
            raise TypeError(f"Value passed to parameter 'x' has DataType {dtype.name} not in list of "
                            f"allowed values: {', '.join(allowed)}")
        return [(x.shape, dtype)]
    return shape


def _unary(op_type, x, name):
    return apply_op(op_type, [convert_to_tensor(x, name="x")], name=name)


def _scalar(value, like):
    """A scalar constant of `like`'s dtype (for the numbers in gradient formulas)."""
    return convert_to_tensor(np.asarray(value, dtype=like.dtype.base_dtype.as_numpy_dtype))


def square(x, name=None):
    """x * x, elementwise."""
    return _unary("Square", x, name)


register_op("Square", shape=_unary_shape(_NUMBERS), kernel=lambda xp, x: xp.multiply(x, x))


@register_gradient("Square")
def _SquareGrad(op, grad):
    """d(x^2)/dx = 2x."""
    x = op.inputs[0]
    return [multiply(grad, multiply(x, _scalar(2, x)))]


def sqrt(x, name=None):
    """The square root of x, elementwise."""
    return _unary("Sqrt", x, name)


register_op("Sqrt", shape=_unary_shape(_FLOATS), kernel=lambda xp, x: xp.sqrt(x))


@register_gradient("Sqrt")
def _SqrtGrad(op, grad):
    """d(sqrt x)/dx = 0.5 / y, written with the output y = sqrt(x) (infinite at x = 0)."""
    y = op.outputs[0]
    return [real_div(multiply(grad, _scalar(0.5, y)), y)]


def rsqrt(x, name=None):
    """1 / sqrt(x), elementwise."""
    return _unary("Rsqrt", x, name)


register_op("Rsqrt", shape=_unary_shape(_FLOATS), kernel=lambda xp, x: xp.reciprocal(xp.sqrt(x)))


@register_gradient("Rsqrt")
def _RsqrtGrad(op, grad):
    """d(x^-1/2)/dx = -0.5 x^-3/2 = -0.5 y^3."""
    y = op.outputs[0]
    return [multiply(grad, multiply(_scalar(-0.5, y), multiply(square(y), y)))]


def exp(x, name=None):
    """e^x, elementwise."""
    return _unary("Exp", x, name)


register_op("Exp", shape=_unary_shape(_FLOATS), kernel=lambda xp, x: xp.exp(x))


@register_gradient("Exp")
def _ExpGrad(op, grad):
    """d(e^x)/dx = e^x = y."""
    return [multiply(grad, op.outputs[0])]


def log(x, name=None):
    """The natural logarithm of x, elementwise (NaN for x < 0, -inf at 0)."""
    return _unary("Log", x, name)


register_op("Log", shape=_unary_shape(_FLOATS), kernel=lambda xp, x: xp.log(x))


@register_gradient("Log")
def _LogGrad(op, grad):
    """d(log x)/dx = 1 / x."""
    return [multiply(grad, reciprocal(op.inputs[0]))]


def log1p(x, name=None):
    """log(1 + x), accurate for small x."""
    return _unary("Log1p", x, name)


register_op("Log1p", shape=_unary_shape(_FLOATS), kernel=lambda xp, x: xp.log1p(x))


@register_gradient("Log1p")
def _Log1pGrad(op, grad):
    """d(log(1 + x))/dx = 1 / (1 + x)."""
    x = op.inputs[0]
    return [multiply(grad, reciprocal(add(_scalar(1, x), x)))]


def abs(x, name=None):  # noqa: A001 - TF's name
    """|x|, elementwise."""
    return _unary("Abs", x, name)


register_op("Abs", shape=_unary_shape(_NUMBERS), kernel=lambda xp, x: xp.abs(x))


@register_gradient("Abs")
def _AbsGrad(op, grad):
    """d|x|/dx = sign(x); NOTE: 0 at x = 0, as in TF."""
    return [multiply(grad, sign(op.inputs[0]))]


def sign(x, name=None):
    """-1, 0 or 1 according to the sign of x."""
    return _unary("Sign", x, name)


register_op("Sign", shape=_unary_shape(_NUMBERS), kernel=lambda xp, x: xp.sign(x))


@register_gradient("Sign")
def _SignGrad(op, grad):
    """sign is flat wherever it is differentiable: the gradient is zero (also at 0, as in TF)."""
    from tfcore.ops.array_ops import zeros_like
    return [zeros_like(op.inputs[0])]


def reciprocal(x, name=None):
    """1 / x, elementwise."""
    return _unary("Reciprocal", x, name)


def _reciprocal_kernel(xp, x):
    return xp.reciprocal(x) if x.dtype.kind == "f" else (1 // x).astype(x.dtype)


register_op("Reciprocal", shape=_unary_shape(_NUMBERS), kernel=_reciprocal_kernel)


@register_gradient("Reciprocal")
def _ReciprocalGrad(op, grad):
    """d(1/x)/dx = -1/x^2 = -y^2."""
    return [negative(multiply(grad, square(op.outputs[0])))]


def sigmoid(x, name=None):
    """1 / (1 + e^-x), elementwise."""
    return _unary("Sigmoid", x, name)


def _sigmoid_kernel(xp, x):
    # NOTE: e^-|x| never overflows, so both halves of the formula are stable.
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


register_op("Tanh", shape=_unary_shape(_FLOATS), kernel=lambda xp, x: xp.tanh(x))


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


register_op("Floor", shape=_unary_shape(_FLOATS), kernel=lambda xp, x: xp.floor(x))
register_op("Ceil", shape=_unary_shape(_FLOATS), kernel=lambda xp, x: xp.ceil(x))
register_op("Round", shape=_unary_shape(_NUMBERS),
            kernel=lambda xp, x: xp.round(x) if x.dtype.kind == "f" else x)
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


register_op("IsFinite", shape=_float_to_bool_shape, kernel=lambda xp, x: xp.isfinite(x))
register_op("IsNan", shape=_float_to_bool_shape, kernel=lambda xp, x: xp.isnan(x))
register_op("IsInf", shape=_float_to_bool_shape, kernel=lambda xp, x: xp.isinf(x))
NotDifferentiable("IsFinite")
NotDifferentiable("IsNan")
NotDifferentiable("IsInf")


# ================================================================================================
# Binary elementwise ops: Pow, Maximum, Minimum, SquaredDifference, FloorDiv, FloorMod
# ================================================================================================


def pow(x, y, name=None):  # noqa: A001 - TF's name
    """x ** y, elementwise with broadcasting."""
    return _binary("Pow", x, y, name)


register_op("Pow", shape=broadcast_binary, kernel=lambda xp, x, y: xp.power(x, y))


@register_gradient("Pow")
def _PowGrad(op, grad):
    """For z = x^y: dz/dx = y x^(y-1) and dz/dy = z log(x).

    NOTE: as in TF, dz/dy is taken as 0 where x <= 0 (log x is undefined there).
    """
    from tfcore.ops.array_ops import ones_like, zeros_like
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


register_op("Maximum", shape=broadcast_binary, kernel=lambda xp, x, y: xp.maximum(x, y))
register_op("Minimum", shape=broadcast_binary, kernel=lambda xp, x, y: xp.minimum(x, y))


def _select_grad(grad, x, y, x_wins):
    from tfcore.ops.array_ops import zeros_like
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


def _squared_difference_kernel(xp, x, y):
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


def _check_integer_divisor(xp, y):
    if y.dtype.kind in "iu" and bool((y == 0).any()):
        raise errors.InvalidArgumentError(None, None, "Integer division by zero")


def _floor_div_kernel(xp, x, y):
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


def _floor_mod_kernel(xp, x, y):
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


def scalar_mul(scalar, x, name=None):
    """`scalar * x` for a scalar `scalar`."""
    scalar = convert_to_tensor(scalar, dtype=convert_to_tensor(x).dtype.base_dtype, name="scalar")
    if scalar.shape.ndims not in (None, 0):
        raise ValueError(f"Only scalar multiply works, got shape {scalar.shape}")
    return multiply(scalar, x, name=name)


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


register_op("Equal", shape=broadcast_compare, kernel=lambda xp, x, y: xp.equal(x, y))
register_op("NotEqual", shape=broadcast_compare, kernel=lambda xp, x, y: xp.not_equal(x, y))
register_op("Less", shape=broadcast_compare, kernel=lambda xp, x, y: xp.less(x, y))
register_op("LessEqual", shape=broadcast_compare, kernel=lambda xp, x, y: xp.less_equal(x, y))
register_op("Greater", shape=broadcast_compare, kernel=lambda xp, x, y: xp.greater(x, y))
register_op("GreaterEqual", shape=broadcast_compare, kernel=lambda xp, x, y: xp.greater_equal(x, y))
for _type in ("Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual"):
    NotDifferentiable(_type)


def _require_dtypes(op_type, tensors, allowed, what):
    for t in tensors:
        if t.dtype.base_dtype.name not in allowed:
            raise TypeError(f"Input of '{op_type}' Op has type {t.dtype.base_dtype.name} that does not "
                            f"match expected type of {what}.")


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


register_op("LogicalAnd", shape=_logical_shape("LogicalAnd"), kernel=lambda xp, x, y: xp.logical_and(x, y))
register_op("LogicalOr", shape=_logical_shape("LogicalOr"), kernel=lambda xp, x, y: xp.logical_or(x, y))
register_op("LogicalNot", shape=_unary_shape(("bool",)), kernel=lambda xp, x: xp.logical_not(x))
for _type in ("LogicalAnd", "LogicalOr", "LogicalNot"):
    NotDifferentiable(_type)


# Bitwise ops on integers: what `&`, `|`, `^` and `~` mean for integer tensors (as in TF 2's compat.v1).
_INTEGERS = ("int8", "int16", "int32", "int64", "uint8")


def _bitwise_shape(op_type):
    def shape(inputs):
        _require_dtypes(op_type, inputs, _INTEGERS, "an integer type")
        return broadcast_binary(inputs)
    return shape


register_op("BitwiseAnd", shape=_bitwise_shape("BitwiseAnd"), kernel=lambda xp, x, y: xp.bitwise_and(x, y))
register_op("BitwiseOr", shape=_bitwise_shape("BitwiseOr"), kernel=lambda xp, x, y: xp.bitwise_or(x, y))
register_op("BitwiseXor", shape=_bitwise_shape("BitwiseXor"), kernel=lambda xp, x, y: xp.bitwise_xor(x, y))
register_op("Invert", shape=_unary_shape(_INTEGERS), kernel=lambda xp, x: xp.invert(x))
for _type in ("BitwiseAnd", "BitwiseOr", "BitwiseXor", "Invert"):
    NotDifferentiable(_type)


# ================================================================================================
# Reductions: Max, Min, Prod, All, Any, and reduce_logsumexp built from them
# ================================================================================================


def reduce_max(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """The largest element over `axis` (all axes when None)."""
    return reduction("Max", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_min(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """The smallest element over `axis` (all axes when None)."""
    return reduction("Min", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


register_op("Max", shape=_reduction_shape,
            kernel=lambda xp, x, axis, keepdims: xp.max(x, axis=axis, keepdims=keepdims))
register_op("Min", shape=_reduction_shape,
            kernel=lambda xp, x, axis, keepdims: xp.min(x, axis=axis, keepdims=keepdims))


@register_gradient("Max")
@register_gradient("Min")
def _MinOrMaxGrad(op, grad):
    """The gradient goes to the elements equal to the result.

    NOTE: as in TF, elements tied for the max (min) share the gradient equally.
    """
    x = op.inputs[0]
    y = _keepdims_grad(op, op.outputs[0])
    chosen = cast(equal(x, y), grad.dtype.base_dtype)
    count = reduce_sum(chosen, op.get_attr("axis"), keepdims=True)
    return [multiply(real_div(chosen, count), _keepdims_grad(op, grad))]


def reduce_prod(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """The product of elements over `axis` (all axes when None)."""
    return reduction("Prod", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


register_op("Prod", shape=_reduction_shape,
            kernel=lambda xp, x, axis, keepdims: xp.prod(x, axis=axis, keepdims=keepdims, dtype=x.dtype))


@register_gradient("Prod")
def _ProdGrad(op, grad):
    """d(prod)/dx_i is the product of all the other elements of x_i's group (no division by x_i,
    so zeros are handled).

    With reduced axes a_1..a_k, the others of element e split by the first axis a_i along which
    they differ from e: for each i, the product along a_i, on both sides of e (exclusive cumprods),
    of x already multiplied out over a_(i+1)..a_k.
    """
    from tfcore.ops.array_ops import _shape_of, broadcast_to
    x = op.inputs[0]
    if x.shape.ndims is None:
        raise ValueError(f"Cannot differentiate {op.name}: its input rank is unknown")
    axis = op.get_attr("axis")
    axes = list(range(x.shape.ndims)) if axis is None else list(axis)
    others = None
    for i, a in enumerate(axes):
        inner = reduce_prod(x, axes[i + 1:], keepdims=True) if axes[i + 1:] else x
        factor = multiply(cumprod(inner, a, exclusive=True), cumprod(inner, a, exclusive=True, reverse=True))
        others = factor if others is None else multiply(others, factor)
    spread = broadcast_to(_keepdims_grad(op, grad), _shape_of(x))
    return [spread if others is None else multiply(spread, others)]


def _bool_reduction_shape(inputs, axis, keepdims):
    _require_dtypes("All/Any", inputs, ("bool",), "bool")
    return _reduction_shape(inputs, axis, keepdims)


def reduce_all(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """Logical AND of a bool tensor over `axis` (all axes when None)."""
    return reduction("All", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_any(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """Logical OR of a bool tensor over `axis` (all axes when None)."""
    return reduction("Any", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


register_op("All", shape=_bool_reduction_shape,
            kernel=lambda xp, x, axis, keepdims: xp.all(x, axis=axis, keepdims=keepdims))
register_op("Any", shape=_bool_reduction_shape,
            kernel=lambda xp, x, axis, keepdims: xp.any(x, axis=axis, keepdims=keepdims))
NotDifferentiable("All")
NotDifferentiable("Any")


def reduce_logsumexp(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                     keep_dims=None):
    """log(sum(exp(x))) over `axis`, computed as max + log(sum(exp(x - max))) so it cannot overflow.

    The shift is a constant for differentiation (stop_gradient); NOTE: a row whose max is infinite
    is not shifted (as in TF), so a row of -inf gives -inf rather than NaN.
    """
    from tfcore.ops.array_ops import shape, stop_gradient, zeros_like
    keepdims = bool(keep_dims if keepdims is None and keep_dims is not None else keepdims)
    axis = axis if axis is not None else reduction_indices
    with get_default_graph().name_scope(name or "ReduceLogSumExp") as scope:
        x = convert_to_tensor(input_tensor, name="input_tensor")
        raw_max = reduce_max(x, axis, keepdims=True)
        shift = stop_gradient(where(is_finite(raw_max), raw_max, zeros_like(raw_max)))
        result = log(reduce_sum(exp(subtract(x, shift)), axis, keepdims=keepdims))
        if not keepdims:
            target = result.shape.as_list() if result.shape.is_fully_defined() else shape(result)
            shift = reshape(shift, target)
        return add(result, shift, name=scope)


# ================================================================================================
# ArgMax, ArgMin
# ================================================================================================


def _static_int(value, what):
    """A Python int from an int or a constant tensor (ValueError when only known at run time)."""
    from tfcore.framework.graph import constant_value
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
    from tfcore.framework.common_shapes import normalize_axis
    x = inputs[0]
    _require_dtypes("ArgMax/ArgMin", inputs, _NUMBERS, "a number type")
    if x.shape.ndims is None:
        return [(TensorShape(None), output_type)]
    if x.shape.ndims == 0:
        raise ValueError("Expected a tensor of rank at least 1 for ArgMax/ArgMin, got a scalar")
    axis = normalize_axis(axis, x.shape.ndims)
    dims = x.shape.as_list()
    return [(TensorShape(dims[:axis] + dims[axis + 1:]), output_type)]


def _argmax_kernel(xp, x, axis, output_type):
    return xp.argmax(x, axis=axis).astype(output_type.as_numpy_dtype)


def _argmin_kernel(xp, x, axis, output_type):
    return xp.argmin(x, axis=axis).astype(output_type.as_numpy_dtype)


register_op("ArgMax", shape=_arg_reduce_shape, kernel=_argmax_kernel)
register_op("ArgMin", shape=_arg_reduce_shape, kernel=_argmin_kernel)
NotDifferentiable("ArgMax")
NotDifferentiable("ArgMin")


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


register_op("Where", shape=_where_shape, kernel=lambda xp, condition: xp.argwhere(condition).astype(xp.int64))
NotDifferentiable("Where")


def _select_shape(inputs):
    from tfcore.framework.common_shapes import check_same_dtype
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


def _select_kernel(xp, condition, x, y):
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
    from tfcore.ops.array_ops import zeros_like
    condition = op.inputs[0]
    zeros = zeros_like(grad)
    return [None, where(condition, grad, zeros), where(condition, zeros, grad)]


# ================================================================================================
# Cumsum, Cumprod
# ================================================================================================


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    """Running sums along `axis`: [a, b, c] -> [a, a+b, a+b+c] (exclusive: [0, a, a+b]; reverse:
    from the end)."""
    return _scan("Cumsum", x, axis, exclusive, reverse, name)


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    """Running products along `axis`: [a, b, c] -> [a, ab, abc] (exclusive: [1, a, ab])."""
    return _scan("Cumprod", x, axis, exclusive, reverse, name)


def _scan(op_type, x, axis, exclusive, reverse, name):
    x = convert_to_tensor(x, name="x")
    axis = _static_int(axis, "axis")
    if x.shape.ndims is not None:
        from tfcore.framework.common_shapes import normalize_axis
        axis = normalize_axis(axis, x.shape.ndims)
    return apply_op(op_type, [x], {"axis": axis, "exclusive": bool(exclusive), "reverse": bool(reverse)},
                    name=name)


def _scan_kernel(running, identity):
    def kernel(xp, x, axis, exclusive, reverse):
        if reverse:
            x = xp.flip(x, axis)
        out = running(xp, x, axis)
        if exclusive:  # shift by one along the axis, starting from the identity
            first = list(x.shape)
            first[axis] = 1
            body = [slice(None)] * x.ndim
            body[axis] = slice(0, x.shape[axis] - 1)
            out = xp.concatenate([xp.full(first, identity, dtype=x.dtype), out[tuple(body)]], axis=axis)
        return xp.flip(out, axis) if reverse else out
    return kernel


register_op("Cumsum", shape=unchanged,
            kernel=_scan_kernel(lambda xp, x, axis: xp.cumsum(x, axis=axis, dtype=x.dtype), 0))
register_op("Cumprod", shape=unchanged,
            kernel=_scan_kernel(lambda xp, x, axis: xp.cumprod(x, axis=axis, dtype=x.dtype), 1))


@register_gradient("Cumsum")
def _CumsumGrad(op, grad):
    """Each input adds into every later running sum: the gradient is the running sum of grad taken
    from the other end."""
    return [cumsum(grad, op.get_attr("axis"), exclusive=op.get_attr("exclusive"),
                   reverse=not op.get_attr("reverse"))]


@register_gradient("Cumprod")
def _CumprodGrad(op, grad):
    """d(out_j)/dx_i = out_j / x_i for every j the product includes: sum them from the other end.

    NOTE: divides by x, so (as in TF) it is not defined where x is 0.
    """
    x = op.inputs[0]
    axis, exclusive, reverse = (op.get_attr(a) for a in ("axis", "exclusive", "reverse"))
    summed = cumsum(multiply(op.outputs[0], grad), axis, exclusive=exclusive, reverse=not reverse)
    return [real_div(summed, x)]


# ================================================================================================
# Clipping: clip_by_value, clip_by_norm, global_norm, clip_by_global_norm (built from the ops above)
# ================================================================================================


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """`t` with every element limited to [clip_value_min, clip_value_max]: min(max(...)).

    NOTE: the gradient passes where t lies inside the range, bounds included (Minimum and Maximum
    send ties to t).
    """
    with get_default_graph().name_scope(name or "clip_by_value") as scope:
        t = convert_to_tensor(t, name="t")
        t_min = minimum(t, clip_value_max)
        if not t.shape.is_compatible_with(t_min.shape):
            raise ValueError(f"clip_by_value: the bounds would broadcast t from {t.shape} to {t_min.shape}")
        return maximum(t_min, clip_value_min, name=scope)


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """`t * clip_norm / max(||t||_2, clip_norm)`: rescaled so its L2 norm (over `axes`) is at most
    clip_norm."""
    from tfcore.ops.array_ops import identity, ones_like
    with get_default_graph().name_scope(name or "clip_by_norm") as scope:
        t = convert_to_tensor(t, name="t")
        l2sum = reduce_sum(t * t, axes, keepdims=True)
        # NOTE: sqrt is kept away from 0 in both branches, so the gradient is never NaN
        nonzero = l2sum > 0
        l2norm = where(nonzero, sqrt(where(nonzero, l2sum, ones_like(l2sum))), l2sum)
        return identity(t * clip_norm / maximum(l2norm, clip_norm), name=scope)


def global_norm(t_list, name=None):
    """sqrt(sum of squares of every element of every tensor in `t_list`); None entries are skipped."""
    from tfcore.ops.array_ops import stack
    if not isinstance(t_list, list | tuple):
        raise TypeError(f"t_list should be a sequence of tensors, got {type(t_list).__name__}")
    with get_default_graph().name_scope(name or "global_norm"):
        values = [convert_to_tensor(t, name=f"t_{i}") for i, t in enumerate(t_list) if t is not None]
        if not values:
            raise ValueError("global_norm needs at least one tensor that is not None")
        squares = [reduce_sum(square(v)) for v in values]
        return sqrt(reduce_sum(stack(squares)), name="global_norm")


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scale every tensor of `t_list` by clip_norm / max(global_norm, clip_norm).

    Returns (list_clipped, global_norm); None entries stay None. A NaN or infinite global norm
    makes every clipped tensor NaN (as in TF), so the problem is not hidden.
    """
    from tfcore.ops.array_ops import identity
    if not isinstance(t_list, list | tuple):
        raise TypeError(f"t_list should be a sequence of tensors, got {type(t_list).__name__}")
    t_list = list(t_list)
    if use_norm is None:
        use_norm = global_norm(t_list, name)
    with get_default_graph().name_scope(name or "clip_by_global_norm") as scope:
        one = _scalar(1, use_norm)
        scale = clip_norm * minimum(one / use_norm, one / clip_norm)
        scale = scale + (use_norm - use_norm)  # NaN when the norm is not finite
        clipped = []
        for i, t in enumerate(t_list):
            if t is None:
                clipped.append(None)
                continue
            t = convert_to_tensor(t, name=f"t_{i}")
            clipped.append(identity(t * scale, name=f"{scope}_{i}"))
    return clipped, use_norm


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
            x = _convert_operand_named(x, y.dtype.base_dtype, "x", op_name)
            return fn(x, y, name=scope)
    return forward, reverse


def _convert_operand_named(value, dtype, name, op_name):
    try:
        return convert_to_tensor(value, dtype=dtype, name=name)
    except ValueError as e:
        raise type(e)(f"{op_name}: {e}") from None


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
