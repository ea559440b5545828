"""Math ops: elementwise arithmetic, matrix products, reductions, and the operators on tensors.

Each op is one block: public wrapper, shape function, kernel (against `xp`), gradient.
Binary ops broadcast like NumPy; their gradients are summed back to each input's shape
(`unbroadcast`).
"""


import numpy as np

from tfcore.framework import dtypes
from tfcore.framework.common_shapes import broadcast_binary, unchanged
from tfcore.framework.graph import Tensor, apply_op, convert_to_tensor, get_default_graph
from tfcore.framework.registry import register_gradient, register_op
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
]


def _binary(op_type, x, y, name):
    """Convert both operands (the second to the first's dtype, as TF does) and build the op."""
    if not isinstance(x, Tensor) and isinstance(y, Tensor) and not hasattr(x, "_as_graph_element"):
        x = convert_to_tensor(x, dtype=y.dtype.base_dtype, name="x")
        y = convert_to_tensor(y)
    else:
        x = convert_to_tensor(x, name="x")
        y = _convert_operand(y, x.dtype.base_dtype, op_type)
    if x.dtype.base_dtype != y.dtype.base_dtype:
        raise ValueError(f"{op_type} op '{name or op_type}': inputs must have the same dtype, got "
                         f"{x.dtype.base_dtype.name} {x.shape} and {y.dtype.base_dtype.name} {y.shape}")
    return apply_op(op_type, [x, y], name=name)


def _convert_operand(y, dtype, op_type):
    try:
        return convert_to_tensor(y, dtype=dtype, name="y")
    except ValueError as e:
        raise ValueError(f"{op_type}: {e}") from None


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
        raise ValueError(f"Shape must be rank 2 but is rank {a.shape.ndims if a.shape.ndims != 2 else b.shape.ndims}")
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
        return x if name is None else apply_op("Identity", [x], name=name)
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
        return (xp.sum(x, axis=axis, keepdims=keepdims) // max(1, x.size // max(1, result.size))).astype(x.dtype)
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
        raise ValueError(f"{op_name}: {e}") from None


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
