"""A fast kernel for ApplyAdam on the CPU: the update computed a block of elements at a time, each
block's arithmetic in the cache and written once into the new arrays, the blocks on the session's
threads (`ctx.map`). The arithmetic is the reference kernel's (training_ops.py), step by step, so
float32 rounds alike.
"""

from tfcore.framework.registry import get_op_def, register_fast_kernel
from tfcore.train.training_ops import _check_same_shape

# Elements per block: a few arrays of this many float32 values stay in the cache together.
BLOCK_ELEMENTS = 2**15


def _apply_adam_kernel(ctx, var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad,
                       use_locking=False, use_nesterov=False):
    """ApplyAdam in blocks (the reference kernel's arithmetic; for Nesterov, the reference kernel)."""
    xp = ctx.xp
    value = var.read()
    _check_same_shape(ctx, value, grad)
    if use_nesterov or value.size < 2 * BLOCK_ELEMENTS or value.dtype != grad.dtype:
        return get_op_def("ApplyAdam").kernel(ctx, var, m, v, beta1_power, beta2_power, lr, beta1, beta2,
                                               epsilon, grad, use_locking, use_nesterov)
    dtype = value.dtype
    alpha = lr * xp.sqrt(1 - beta2_power) / (1 - beta1_power)
    one_minus_beta1, one_minus_beta2 = 1 - beta1, 1 - beta2
    flat = [a.reshape(-1) for a in (value, m.read(), v.read(), grad)]
    new = [xp.empty(value.shape, dtype=dtype) for _ in range(3)]
    out_flat = [a.reshape(-1) for a in new]

    def update(block):
        old, old_m, old_v, g = (a[block] for a in flat)
        new_value, new_m, new_v = (a[block] for a in out_flat)
        # new_m = old_m + (g - old_m) * (1 - beta1)
        xp.subtract(g, old_m, out=new_m)
        xp.multiply(new_m, one_minus_beta1, out=new_m)
        xp.add(old_m, new_m, out=new_m)
        # new_v = old_v + (g * g - old_v) * (1 - beta2)
        xp.multiply(g, g, out=new_v)
        xp.subtract(new_v, old_v, out=new_v)
        xp.multiply(new_v, one_minus_beta2, out=new_v)
        xp.add(old_v, new_v, out=new_v)
        # new = old - (new_m * alpha) / (sqrt(new_v) + epsilon)
        denominator = xp.sqrt(new_v)
        xp.add(denominator, epsilon, out=denominator)
        xp.multiply(new_m, alpha, out=new_value)
        xp.divide(new_value, denominator, out=new_value)
        xp.subtract(old, new_value, out=new_value)

    size = value.size
    ctx.map(update, [slice(s, min(s + BLOCK_ELEMENTS, size)) for s in range(0, size, BLOCK_ELEMENTS)])
    m.write(new[1])
    v.write(new[2])
    var.write(new[0])
    return new[0]


FAST_KERNELS = {"ApplyAdam": _apply_adam_kernel}

for _op_type, _kernel in FAST_KERNELS.items():
    register_fast_kernel(_op_type, "CPU", _kernel)
