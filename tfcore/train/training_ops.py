"""The update rules of the optimizers: one stateful `Apply*` op per rule, one block each.

An `Apply*` op takes the variable and its slot variables by reference (their `VariableRef`s: see
tfcore/client/plan.py), the hyperparameters and the gradient by value, computes the new values
and writes them back into the session's variable store. Like `Assign`, it never updates an array
in place: it writes new arrays, so a tensor that read the old value earlier in the same run (the
forward pass, the gradient) keeps it. Its output is the variable's new value.

Each kernel follows the arithmetic of TensorFlow's CPU kernel step by step (for instance Adam's
``m += (g - m) * (1 - beta1)`` rather than ``beta1 * m + (1 - beta1) * g``), so that float32
results round the same way.

The optimizers in tfcore/train/optimizers.py build these ops; they are not exported as `tf.<name>`.
"""

from tfcore.framework import errors
from tfcore.framework.graph import apply_op, convert_to_tensor
from tfcore.framework.registry import NotDifferentiable, register_op
from tfcore.ops.variables import ref_tensor

# Internal ops: the optimizers call these wrappers; nothing is exported as tf.<name>.
__all__ = []


def _build(op_type, refs, values, attrs, name):
    """Build `op_type` with variable references `refs` followed by the value inputs `values`."""
    refs = [ref_tensor(r, needed_by="an Apply op") for r in refs]
    dtype = refs[0].dtype.base_dtype
    values = [convert_to_tensor(v, dtype=dtype) for v in values]
    return apply_op(op_type, refs + values, attrs, name=name or op_type)


def _apply_shape(num_refs, scalar_positions, grad_position):
    """The shape function of an Apply op: refs and gradient share one shape; hyperparameters are scalars.

    Positions count all inputs (refs first). The output is the updated variable (a ref, as in TF).
    """
    def shape(inputs, **attrs):
        var = inputs[0]
        dtype = var.dtype.base_dtype
        merged = var.shape
        for i, t in enumerate(inputs):
            if t.dtype.base_dtype != dtype:
                raise ValueError(f"Input {i} has dtype {t.dtype.base_dtype.name}, but the variable is "
                                 f"{dtype.name}")
            if i < num_refs or i == grad_position:
                if not merged.is_compatible_with(t.shape):
                    raise ValueError(f"Shapes of the variable, its slots and the gradient must be equal, "
                                     f"but are {merged} and {t.shape}")
                merged = merged.merge_with(t.shape)
            elif i in scalar_positions and t.shape.ndims not in (None, 0):
                raise ValueError(f"Input {i} must be a scalar, but has shape {t.shape}")
        return [(merged, dtype._as_ref())]
    return shape


def _check_same_shape(ctx, var, grad, what="var"):
    """Runtime check (shapes may be unknown at build time): TF's InvalidArgumentError message."""
    if var.shape != grad.shape:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"{what} and grad do not have the same shape{list(var.shape)} {list(grad.shape)}")


# ================================================================================================
# ApplyGradientDescent: var -= alpha * delta
# ================================================================================================


def apply_gradient_descent(var, alpha, delta, use_locking=False, name=None):
    """Update `var` by plain gradient descent: var <- var - alpha * delta."""
    return _build("ApplyGradientDescent", [var], [alpha, delta], {"use_locking": bool(use_locking)}, name)


def _apply_gradient_descent_kernel(ctx, var, alpha, delta, use_locking=False):
    value = var.read()
    _check_same_shape(ctx, value, delta)
    new = value - delta * alpha
    var.write(new)
    return new


register_op("ApplyGradientDescent", shape=_apply_shape(1, {1}, 2), kernel=_apply_gradient_descent_kernel,
            ref_inputs=(0,))
NotDifferentiable("ApplyGradientDescent")


# ================================================================================================
# ApplyMomentum: accum = accum * momentum + grad; var -= lr * accum (Nesterov: look ahead)
# ================================================================================================


def apply_momentum(var, accum, lr, grad, momentum, use_locking=False, use_nesterov=False, name=None):
    """Momentum: accum <- momentum * accum + grad; var <- var - lr * accum.

    With `use_nesterov`: var <- var - (lr * grad + lr * momentum * accum), using the new accum.
    """
    return _build("ApplyMomentum", [var, accum], [lr, grad, momentum],
                  {"use_locking": bool(use_locking), "use_nesterov": bool(use_nesterov)}, name)


def _apply_momentum_kernel(ctx, var, accum, lr, grad, momentum, use_locking=False, use_nesterov=False):
    value = var.read()
    _check_same_shape(ctx, value, grad)
    new_accum = accum.read() * momentum + grad
    if use_nesterov:
        new = value - (grad * lr + new_accum * momentum * lr)
    else:
        new = value - new_accum * lr
    accum.write(new_accum)
    var.write(new)
    return new


register_op("ApplyMomentum", shape=_apply_shape(2, {2, 4}, 3), kernel=_apply_momentum_kernel,
            ref_inputs=(0, 1))
NotDifferentiable("ApplyMomentum")


# ================================================================================================
# ApplyAdam: bias-corrected step lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
# ================================================================================================


def apply_adam(var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad, use_locking=False,
               use_nesterov=False, name=None):
    """Adam (Kingma and Ba), with the bias correction folded into the step size:

        lr_t = lr * sqrt(1 - beta2_power) / (1 - beta1_power)
        m <- beta1 * m + (1 - beta1) * grad
        v <- beta2 * v + (1 - beta2) * grad^2
        var <- var - lr_t * m / (sqrt(v) + epsilon)

    `beta1_power` and `beta2_power` are beta^t for the step being taken (the optimizer multiplies
    them by beta after the step).
    """
    return _build("ApplyAdam", [var, m, v], [beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad],
                  {"use_locking": bool(use_locking), "use_nesterov": bool(use_nesterov)}, name)


def _apply_adam_kernel(ctx, var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad,
                       use_locking=False, use_nesterov=False):
    xp = ctx.xp
    value = var.read()
    _check_same_shape(ctx, value, grad)
    alpha = lr * xp.sqrt(1 - beta2_power) / (1 - beta1_power)
    # NOTE: written as TF's kernel computes it (m += (g - m) * (1 - beta1)), so float32 rounds alike.
    old_m = m.read()
    new_m = old_m + (grad - old_m) * (1 - beta1)
    old_v = v.read()
    new_v = old_v + (grad * grad - old_v) * (1 - beta2)
    if use_nesterov:
        new = value - ((grad * (1 - beta1) + new_m * beta1) * alpha) / (xp.sqrt(new_v) + epsilon)
    else:
        new = value - (new_m * alpha) / (xp.sqrt(new_v) + epsilon)
    m.write(new_m)
    v.write(new_v)
    var.write(new)
    return new


register_op("ApplyAdam", shape=_apply_shape(3, {3, 4, 5, 6, 7, 8}, 9), kernel=_apply_adam_kernel,
            ref_inputs=(0, 1, 2))
NotDifferentiable("ApplyAdam")


# ================================================================================================
# ApplyRMSProp: ms = rho * ms + (1 - rho) * g^2; mom = momentum * mom + lr * g / sqrt(ms + eps)
# ================================================================================================


def apply_rms_prop(var, ms, mom, lr, rho, momentum, epsilon, grad, use_locking=False, name=None):
    """RMSProp:

        ms <- rho * ms + (1 - rho) * grad^2
        mom <- momentum * mom + lr * grad / sqrt(ms + epsilon)
        var <- var - mom
    """
    return _build("ApplyRMSProp", [var, ms, mom], [lr, rho, momentum, epsilon, grad],
                  {"use_locking": bool(use_locking)}, name)


def _apply_rms_prop_kernel(ctx, var, ms, mom, lr, rho, momentum, epsilon, grad, use_locking=False):
    xp = ctx.xp
    value = var.read()
    _check_same_shape(ctx, value, grad)
    old_ms = ms.read()
    new_ms = old_ms + (grad * grad - old_ms) * (1 - rho)
    new_mom = mom.read() * momentum + (grad * lr) / xp.sqrt(new_ms + epsilon)
    new = value - new_mom
    ms.write(new_ms)
    mom.write(new_mom)
    var.write(new)
    return new


register_op("ApplyRMSProp", shape=_apply_shape(3, {3, 4, 5, 6}, 7), kernel=_apply_rms_prop_kernel,
            ref_inputs=(0, 1, 2))
NotDifferentiable("ApplyRMSProp")


# ================================================================================================
# ApplyCenteredRMSProp: RMSProp normalised by an estimate of the variance, ms - mg^2
# ================================================================================================


def apply_centered_rms_prop(var, mg, ms, mom, lr, rho, momentum, epsilon, grad, use_locking=False,
                            name=None):
    """Centered RMSProp:

        mg <- rho * mg + (1 - rho) * grad
        ms <- rho * ms + (1 - rho) * grad^2
        mom <- momentum * mom + lr * grad / sqrt(ms - mg^2 + epsilon)
        var <- var - mom
    """
    return _build("ApplyCenteredRMSProp", [var, mg, ms, mom], [lr, rho, momentum, epsilon, grad],
                  {"use_locking": bool(use_locking)}, name)


def _apply_centered_rms_prop_kernel(ctx, var, mg, ms, mom, lr, rho, momentum, epsilon, grad,
                                    use_locking=False):
    xp = ctx.xp
    value = var.read()
    _check_same_shape(ctx, value, grad)
    old_ms = ms.read()
    new_ms = old_ms + (grad * grad - old_ms) * (1 - rho)
    old_mg = mg.read()
    new_mg = old_mg + (grad - old_mg) * (1 - rho)
    denominator = (new_ms - new_mg * new_mg) + epsilon
    new_mom = mom.read() * momentum + (grad * lr) / xp.sqrt(denominator)
    new = value - new_mom
    mg.write(new_mg)
    ms.write(new_ms)
    mom.write(new_mom)
    var.write(new)
    return new


register_op("ApplyCenteredRMSProp", shape=_apply_shape(4, {4, 5, 6, 7}, 8),
            kernel=_apply_centered_rms_prop_kernel, ref_inputs=(0, 1, 2, 3))
NotDifferentiable("ApplyCenteredRMSProp")


# ================================================================================================
# ApplyAdagrad: accum += g^2; var -= lr * g / sqrt(accum)
# ================================================================================================


def apply_adagrad(var, accum, lr, grad, use_locking=False, update_slots=True, name=None):
    """Adagrad: accum <- accum + grad^2; var <- var - lr * grad / sqrt(accum)."""
    return _build("ApplyAdagrad", [var, accum], [lr, grad],
                  {"use_locking": bool(use_locking), "update_slots": bool(update_slots)}, name)


def _apply_adagrad_kernel(ctx, var, accum, lr, grad, use_locking=False, update_slots=True):
    xp = ctx.xp
    value = var.read()
    _check_same_shape(ctx, value, grad)
    new_accum = accum.read() + grad * grad if update_slots else accum.read()
    # NOTE: TF multiplies by the reciprocal square root (rsqrt) rather than dividing by the root.
    new = value - grad * lr * (1 / xp.sqrt(new_accum))
    accum.write(new_accum)
    var.write(new)
    return new


register_op("ApplyAdagrad", shape=_apply_shape(2, {2}, 3), kernel=_apply_adagrad_kernel, ref_inputs=(0, 1))
NotDifferentiable("ApplyAdagrad")
