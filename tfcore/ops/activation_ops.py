"""Activation functions: relu, relu6, leaky_relu, elu, selu, softplus, softsign, softmax and
log_softmax (tf.nn.*).

Each op is one block: public wrapper, shape function, kernel (against `ctx.xp`), gradient. Piecewise
activations get a gradient op of their own (`ReluGrad`, `EluGrad`, ...) as in TensorFlow, so
their derivatives are one fused kernel and can themselves be differentiated. `sigmoid` and `tanh`
are elementwise math ops (elementwise_ops.py); `tf.nn` re-exports them.
"""

from tfcore.framework import dtypes
from tfcore.framework.common_shapes import normalize_axis, same_shape, unchanged
from tfcore.framework.graph import apply_op, convert_to_tensor
from tfcore.framework.registry import register_gradient, register_op
from tfcore.ops import array_ops, comparison_ops, elementwise_ops, math_ops, reduction_ops

# Public names; tfcore/nn.py exports them as tf.nn.<name> (TF1 has no top-level tf.relu etc.).
__all__ = ["relu", "relu6", "leaky_relu", "elu", "selu", "softplus", "softsign", "softmax", "log_softmax"]


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _stable_sigmoid(xp, x):
    """1 / (1 + exp(-x)) without overflow: exp is only ever taken of -|x|."""
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1, e) / (1 + e)


def _float_input(value, name, op_type):
    """`value` as a floating-point tensor; a ValueError naming the op otherwise."""
    t = convert_to_tensor(value, name=name)
    if not t.dtype.base_dtype.is_floating:
        raise ValueError(f"{op_type} needs a floating-point input, got {t.dtype.base_dtype.name} ({t.name})")
    return t


# ================================================================================================
# Relu, Relu6, LeakyRelu: piecewise linear
# ================================================================================================


def relu(features, name=None):
    """max(features, 0)."""
    return apply_op("Relu", [convert_to_tensor(features, name="features")], name=name)


register_op("Relu", shape=unchanged, kernel=lambda ctx, x: ctx.xp.maximum(x, 0, out=ctx.out),
            reuses_inputs=(0,))


@register_gradient("Relu")
def _ReluGrad(op, grad):
    """d relu(x)/dx = 1 where the output is positive, else 0 (NOTE: 0 at x = 0, as in TF)."""
    return [apply_op("ReluGrad", [grad, op.outputs[0]])]


register_op("ReluGrad", shape=same_shape, reuses_inputs=(0, 1),
            kernel=lambda ctx, grad, x: ctx.xp.multiply(grad, x > 0, out=ctx.out))


@register_gradient("ReluGrad")
def _ReluGradGrad(op, grad):
    """ReluGrad(g, x) = g * [x > 0] is linear in g; its mask is flat in x (a zero gradient)."""
    return [apply_op("ReluGrad", [grad, op.inputs[1]]), array_ops.zeros_like(op.inputs[1])]


def relu6(features, name=None):
    """min(max(features, 0), 6)."""
    return apply_op("Relu6", [convert_to_tensor(features, name="features")], name=name)


register_op("Relu6", shape=unchanged, kernel=lambda ctx, x: ctx.xp.minimum(ctx.xp.maximum(x, 0), 6))


@register_gradient("Relu6")
def _Relu6Grad(op, grad):
    """1 where 0 < x < 6, else 0 (tested on the output, which is inside (0, 6) exactly there)."""
    return [apply_op("Relu6Grad", [grad, op.outputs[0]])]


register_op("Relu6Grad", shape=same_shape,
            kernel=lambda ctx, grad, x: grad * ((x > 0) & (x < 6)))


@register_gradient("Relu6Grad")
def _Relu6GradGrad(op, grad):
    """Linear in the incoming gradient, flat in x (a zero gradient)."""
    return [apply_op("Relu6Grad", [grad, op.inputs[1]]), array_ops.zeros_like(op.inputs[1])]


def leaky_relu(features, alpha=0.2, name=None):
    """x where x > 0, else alpha * x."""
    features = convert_to_tensor(features, name="features")
    if features.dtype.base_dtype.is_integer:
        features = math_ops.cast(features, dtypes.float32)
    return apply_op("LeakyRelu", [features], {"alpha": float(alpha)}, name=name)


register_op("LeakyRelu", shape=unchanged,
            kernel=lambda ctx, x, alpha: ctx.xp.where(x > 0, x, x * alpha))


@register_gradient("LeakyRelu")
def _LeakyReluGrad(op, grad):
    """1 where x > 0, else alpha."""
    return [apply_op("LeakyReluGrad", [grad, op.inputs[0]], {"alpha": op.get_attr("alpha")})]


register_op("LeakyReluGrad", shape=same_shape,
            kernel=lambda ctx, grad, x, alpha: ctx.xp.where(x > 0, grad, grad * alpha))


@register_gradient("LeakyReluGrad")
def _LeakyReluGradGrad(op, grad):
    """Linear in the incoming gradient, flat in x (a zero gradient)."""
    x = op.inputs[1]
    return [apply_op("LeakyReluGrad", [grad, x], {"alpha": op.get_attr("alpha")}), array_ops.zeros_like(x)]


# ================================================================================================
# Elu and Selu: exponential below zero
# ================================================================================================


def elu(features, name=None):
    """x where x > 0, else exp(x) - 1."""
    return apply_op("Elu", [_float_input(features, "features", "Elu")], name=name)


def _elu_kernel(ctx, x):
    xp = ctx.xp
    return xp.where(x > 0, x, xp.expm1(xp.minimum(x, 0)))  # minimum: no overflow in the unused branch


register_op("Elu", shape=unchanged, kernel=_elu_kernel)


@register_gradient("Elu")
def _EluGrad(op, grad):
    """1 where x > 0, else exp(x) = y + 1 (written with the output y)."""
    return [apply_op("EluGrad", [grad, op.outputs[0]])]


register_op("EluGrad", shape=same_shape,
            kernel=lambda ctx, grad, y: ctx.xp.where(y < 0, grad * (y + 1), grad))


@register_gradient("EluGrad")
def _EluGradGrad(op, grad):
    """EluGrad(g, y) = g (y + 1) for y < 0: linear in g, and d/dy = g where y < 0."""
    g, y = op.inputs
    return [apply_op("EluGrad", [grad, y]), _where_negative(y, grad * g)]


def _where_negative(y, value):
    """`value` where y < 0, else 0 (the second-derivative terms of Elu and Selu)."""
    negative = comparison_ops.less(y, array_ops.zeros_like(y))
    return comparison_ops.where(negative, value, array_ops.zeros_like(value))


def selu(features, name=None):
    """scale * x where x > 0, else scale * alpha * (exp(x) - 1), with Klambauer et al.'s constants."""
    return apply_op("Selu", [_float_input(features, "features", "Selu")], name=name)


def _selu_kernel(ctx, x):
    xp = ctx.xp
    return _SELU_SCALE * xp.where(x > 0, x, _SELU_ALPHA * xp.expm1(xp.minimum(x, 0)))


register_op("Selu", shape=unchanged, kernel=_selu_kernel)


@register_gradient("Selu")
def _SeluGrad(op, grad):
    """scale where x > 0, else scale * alpha * exp(x) = y + scale * alpha."""
    return [apply_op("SeluGrad", [grad, op.outputs[0]])]


register_op("SeluGrad", shape=same_shape,
            kernel=lambda ctx, grad, y: ctx.xp.where(y < 0, grad * (y + _SELU_SCALE * _SELU_ALPHA),
                                                 grad * _SELU_SCALE))


@register_gradient("SeluGrad")
def _SeluGradGrad(op, grad):
    """Linear in g; d/dy = g where y < 0."""
    g, y = op.inputs
    return [apply_op("SeluGrad", [grad, y]), _where_negative(y, grad * g)]


# ================================================================================================
# Softplus and Softsign: smooth
# ================================================================================================


def softplus(features, name=None):
    """log(1 + exp(x)), computed stably as max(x, 0) + log(1 + exp(-|x|))."""
    return apply_op("Softplus", [_float_input(features, "features", "Softplus")], name=name)


register_op("Softplus", shape=unchanged,
            kernel=lambda ctx, x: ctx.xp.maximum(x, 0) + ctx.xp.log1p(ctx.xp.exp(-ctx.xp.abs(x))))


@register_gradient("Softplus")
def _SoftplusGrad(op, grad):
    """d softplus(x)/dx = sigmoid(x) (one fused kernel: SoftplusGrad)."""
    return [apply_op("SoftplusGrad", [grad, op.inputs[0]])]


register_op("SoftplusGrad", shape=same_shape,
            kernel=lambda ctx, grad, x: grad * _stable_sigmoid(ctx.xp, x))


@register_gradient("SoftplusGrad")
def _SoftplusGradGrad(op, grad):
    """SoftplusGrad(g, x) = g sigmoid(x): linear in g; d/dx = g sigmoid(x) (1 - sigmoid(x))."""
    g, x = op.inputs
    s = elementwise_ops.sigmoid(x)
    return [apply_op("SoftplusGrad", [grad, x]), grad * g * s * (1.0 - s)]


def softsign(features, name=None):
    """x / (1 + |x|)."""
    return apply_op("Softsign", [_float_input(features, "features", "Softsign")], name=name)


register_op("Softsign", shape=unchanged, kernel=lambda ctx, x: x / (1 + ctx.xp.abs(x)))


@register_gradient("Softsign")
def _SoftsignGrad(op, grad):
    """d softsign(x)/dx = 1 / (1 + |x|)^2."""
    return [apply_op("SoftsignGrad", [grad, op.inputs[0]])]


register_op("SoftsignGrad", shape=same_shape,
            kernel=lambda ctx, grad, x: grad / ctx.xp.square(1 + ctx.xp.abs(x)))
# NOTE: SoftsignGrad has no gradient, as in TF (a second derivative of softsign raises LookupError).


# ================================================================================================
# Softmax and LogSoftmax (numerically stable: the max is subtracted before exp)
# ================================================================================================


def _softmax_axis(axis, dim):
    if dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'dim'")
        axis = dim
    return -1 if axis is None else int(axis)


def _softmax_shape(inputs, axis):
    x = inputs[0]
    if not x.dtype.base_dtype.is_floating:
        raise ValueError(f"Softmax needs floating-point logits, got {x.dtype.base_dtype.name}")
    if x.shape.ndims == 0:
        raise ValueError("Shape must be at least rank 1 but is rank 0")
    normalize_axis(axis, x.shape.ndims)
    return [(x.shape, x.dtype.base_dtype)]


def softmax(logits, axis=None, name=None, dim=None):
    """exp(x) / sum(exp(x)) along `axis` (default the last); `dim` is the old name of `axis`."""
    logits = convert_to_tensor(logits, name="logits")
    return apply_op("Softmax", [logits], {"axis": _softmax_axis(axis, dim)}, name=name)


def _softmax_kernel(ctx, x, axis):
    xp = ctx.xp
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


register_op("Softmax", shape=_softmax_shape, kernel=_softmax_kernel)


@register_gradient("Softmax")
def _SoftmaxGrad(op, grad):
    """For y = softmax(x): dx = (dy - sum(dy * y)) * y (the Jacobian is diag(y) - y y^T)."""
    y = op.outputs[0]
    axis = op.get_attr("axis")
    return [(grad - reduction_ops.reduce_sum(grad * y, axis, keepdims=True)) * y]


def log_softmax(logits, axis=None, name=None, dim=None):
    """x - log(sum(exp(x))) along `axis`, without overflow for large logits."""
    logits = convert_to_tensor(logits, name="logits")
    return apply_op("LogSoftmax", [logits], {"axis": _softmax_axis(axis, dim)}, name=name)


def _log_softmax_kernel(ctx, x, axis):
    xp = ctx.xp
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


register_op("LogSoftmax", shape=_softmax_shape, kernel=_log_softmax_kernel)


@register_gradient("LogSoftmax")
def _LogSoftmaxGrad(op, grad):
    """For y = log_softmax(x): dx = dy - sum(dy) * softmax(x)."""
    axis = op.get_attr("axis")
    probs = softmax(op.inputs[0], axis=axis)
    return [grad - reduction_ops.reduce_sum(grad, axis, keepdims=True) * probs]
