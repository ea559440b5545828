"""The running reductions cumsum and cumprod: sums (products) along one axis that keep every
partial result, optionally exclusive (shifted by one) or from the end (reverse).

Each op is one block: public wrapper, shape function, kernel (against `ctx.xp`), gradient. The axis
is an attr, known when the graph is built.
"""

from tfcore.framework.common_shapes import normalize_axis, unchanged
from tfcore.framework.graph import apply_op, convert_to_tensor
from tfcore.framework.registry import register_gradient, register_op
from tfcore.ops.argmax_ops import _static_int
from tfcore.ops.math_ops import multiply, real_div

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = ["cumsum", "cumprod"]


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
        axis = normalize_axis(axis, x.shape.ndims)
    return apply_op(op_type, [x], {"axis": axis, "exclusive": bool(exclusive), "reverse": bool(reverse)},
                    name=name)


def _scan_kernel(running, identity):
    def kernel(ctx, x, axis, exclusive, reverse):
        xp = ctx.xp
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
