"""Arithmetic: add, subtract, multiply, divide, negative, add_n, matmul and cast, with the helpers
that every elementwise op module builds on.

Each op is one block: public wrapper, shape function, kernel (against `ctx.xp`), gradient.
Binary ops broadcast like NumPy; their gradients are summed back to each input's shape
(`unbroadcast`). The other math ops live beside this file: elementwise functions
(elementwise_ops.py), pow, maximum, minimum and the floor divisions (binary_ops.py), comparisons
and where (comparison_ops.py), reductions (reduction_ops.py, argmax_ops.py, cumulative_ops.py),
clipping (clip_ops.py); tensor_operators.py makes `a + b`, `x < y`, ... build them.
"""


import numpy as np

from tfcore.framework import dtypes, errors
from tfcore.framework.common_shapes import broadcast_binary, check_same_dtype, same_shape, unchanged
from tfcore.framework.constant_folding import fold_by_kernel, has_unknown
from tfcore.framework.graph import Tensor, apply_op, convert_to_tensor, get_default_graph
from tfcore.framework.registry import register_gradient, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.ops.array_ops import unbroadcast

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = [
    "add", "subtract", "multiply", "scalar_mul", "real_div", "truediv", "divide",
    "negative", "neg",
    "add_n",
    "matmul",
    "cast", "to_float", "to_double", "to_int32", "to_int64",
]

# The dtypes an elementwise op may accept, by name.
_FLOATS = ("float16", "float32", "float64")
_NUMBERS = _FLOATS + ("int8", "int16", "int32", "int64", "uint8")


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
            raise errors.DTypeMismatchError(
                f"{op_type} op '{scope[:-1]}': inputs must have the same dtype, got "
                f"{x.dtype.base_dtype.name} {x.shape} and {y.dtype.base_dtype.name} {y.shape}")
        return apply_op(op_type, [x, y], name=scope)


def _convert_operand(value, dtype, op_type, name="y"):
    """`value` as a tensor of `dtype`; a conversion error names the op."""
    try:
        return convert_to_tensor(value, dtype=dtype, name=name)
    except ValueError as e:
        raise type(e)(f"{op_type}: {e}") from None


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


def _require_dtypes(op_type, tensors, allowed, what):
    for t in tensors:
        if t.dtype.base_dtype.name not in allowed:
            raise TypeError(f"Input of '{op_type}' Op has type {t.dtype.base_dtype.name} that does not "
                            f"match expected type of {what}.")


# ================================================================================================
# Add, Sub, Mul, RealDiv
# ================================================================================================


def add(x, y, name=None):
    """x + y, elementwise with broadcasting."""
    return _binary("Add", x, y, name)


register_op("Add", shape=broadcast_binary, kernel=lambda ctx, x, y: ctx.xp.add(x, y, out=ctx.out),
            reuses_inputs=(0, 1))


@register_gradient("Add")
def _AddGrad(op, grad):
    """d(x + y) = dx + dy: both inputs receive the gradient, un-broadcast to their shapes."""
    x, y = op.inputs
    return [unbroadcast(grad, x), unbroadcast(grad, y)]


def subtract(x, y, name=None):
    """x - y, elementwise with broadcasting."""
    return _binary("Sub", x, y, name)


register_op("Sub", shape=broadcast_binary, kernel=lambda ctx, x, y: ctx.xp.subtract(x, y, out=ctx.out),
            reuses_inputs=(0, 1))


@register_gradient("Sub")
def _SubGrad(op, grad):
    """d(x - y) = dx - dy."""
    x, y = op.inputs
    return [unbroadcast(grad, x), unbroadcast(negative(grad), y)]


def multiply(x, y, name=None):
    """x * y, elementwise with broadcasting."""
    return _binary("Mul", x, y, name)


register_op("Mul", shape=broadcast_binary, kernel=lambda ctx, x, y: ctx.xp.multiply(x, y, out=ctx.out),
            reuses_inputs=(0, 1))


@register_gradient("Mul")
def _MulGrad(op, grad):
    """d(x * y) = y dx + x dy."""
    x, y = op.inputs
    return [unbroadcast(multiply(grad, y), x), unbroadcast(multiply(grad, x), y)]


def scalar_mul(scalar, x, name=None):
    """`scalar * x` for a scalar `scalar`."""
    scalar = convert_to_tensor(scalar, dtype=convert_to_tensor(x).dtype.base_dtype, name="scalar")
    if scalar.shape.ndims not in (None, 0):
        raise ValueError(f"Only scalar multiply works, got shape {scalar.shape}")
    return multiply(scalar, x, name=name)


def real_div(x, y, name=None):
    """x / y for floating-point tensors."""
    return _binary("RealDiv", x, y, name)


register_op("RealDiv", shape=broadcast_binary, kernel=lambda ctx, x, y: ctx.xp.true_divide(x, y))


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


# ================================================================================================
# Neg
# ================================================================================================


def negative(x, name=None):
    """-x."""
    return apply_op("Neg", [convert_to_tensor(x)], name=name)


register_op("Neg", shape=unchanged, kernel=lambda ctx, x: ctx.xp.negative(x))


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


def _add_n_kernel(ctx, *xs):
    xp, out = ctx.xp, ctx.out
    total = xp.add(xs[0], xs[1], out=out)
    for x in xs[2:]:
        total += x  # `total` is a fresh array (or the plan's dead input), so adding in place is safe
    return total


register_op("AddN", shape=same_shape, kernel=_add_n_kernel, reuses_inputs=(0, 1))


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


def _matmul_kernel(ctx, a, b, transpose_a, transpose_b):
    xp = ctx.xp
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


def _cast_fold(op, known):
    """A cast of a value known in part is that value: its known entries are shape numbers, which
    converting does not change."""
    value = known(op.inputs[0])
    return value if value is not None and has_unknown(value) else fold_by_kernel(op, known, [value])


register_op("Cast", shape=lambda inputs, DstT: [(inputs[0].shape, DstT)],
            kernel=lambda ctx, x, DstT: x.astype(DstT.as_numpy_dtype), fold=_cast_fold)


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
