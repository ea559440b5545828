"""Padding: pad (borders around a tensor, constant or mirrored), with the MirrorPadGrad op that
folds a mirrored border's gradient back.

Each op is one block: public wrapper, shape function, kernel (against `ctx.xp`), gradient. The
paddings are attrs, known when the graph is built; the gradient of a constant pad is the centre
of the incoming gradient (a strided slice).
"""

from tfcore.framework.graph import apply_op, convert_to_tensor
from tfcore.framework.registry import register_gradient, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.framework.tensor_shape import dims_or_none as _dims
from tfcore.ops.array_ops import _holds_tensor, _static, _static_ints
from tfcore.ops.slicing_ops import strided_slice

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = ["pad"]


# ================================================================================================
# Pad (constant) and MirrorPad (reflect, symmetric)
# ================================================================================================


def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0):
    """`tensor` with paddings[i] = [before, after] entries added around dimension i.

    CONSTANT fills them with `constant_values`; REFLECT mirrors the tensor without repeating the
    edge ([1, 2, 3] padded by 2: 3 2 [1 2 3] 2 1); SYMMETRIC mirrors including it (2 1 [1 2 3] 3 2).
    """
    tensor = convert_to_tensor(tensor, name="tensor")
    paddings = _static_ints(paddings, "pad's paddings", ndim=2)
    mode = str(mode).upper()
    if mode == "CONSTANT":
        fill_value = _static(constant_values, "pad's constant_values")
        if fill_value.ndim:
            raise ValueError(f"constant_values must be a scalar, got shape {list(fill_value.shape)}")
        if not _holds_tensor(constant_values) and fill_value == 0:
            return apply_op("Pad", [tensor], {"paddings": paddings}, name=name)
        return apply_op("PadV2", [tensor], {"paddings": paddings, "constant_values": fill_value.item()},
                        name=name)
    if mode in ("REFLECT", "SYMMETRIC"):
        return apply_op("MirrorPad", [tensor], {"paddings": paddings, "mode": mode}, name=name)
    raise ValueError('Value of argument `mode` expected to be one of "CONSTANT", "REFLECT", or "SYMMETRIC". '
                     f"Received `mode` = {mode}")


def _pad_shape(inputs, paddings, mode="CONSTANT", constant_values=0):
    x = inputs[0]
    dims = _dims(x.shape)
    if dims is None:
        dims = [None] * len(paddings)
    if len(paddings) != len(dims) or any(len(p) != 2 for p in paddings):
        raise ValueError(f"paddings must have shape [{len(dims)}, 2], one [before, after] pair per "
                         f"dimension of the input, got {paddings}")
    out = []
    for i, ((before, after), d) in enumerate(zip(paddings, dims)):
        if before < 0 or after < 0:
            raise ValueError("Paddings must be non-negative")
        limit = None if d is None else d - 1 if mode == "REFLECT" else d
        if mode != "CONSTANT" and limit is not None and max(before, after) > limit:
            raise ValueError(f"{mode} paddings must be at most {limit} in dimension {i} (its size"
                             f"{' - 1' if mode == 'REFLECT' else ''}), got [{before}, {after}]")
        out.append(None if d is None else d + before + after)
    return [(TensorShape(out), x.dtype.base_dtype)]


register_op("Pad", shape=_pad_shape, kernel=lambda ctx, x, paddings: ctx.xp.pad(x, paddings))
register_op("PadV2", shape=_pad_shape,
            kernel=lambda ctx, x, paddings, constant_values: ctx.xp.pad(x, paddings,
                                                                   constant_values=constant_values))
register_op("MirrorPad", shape=_pad_shape,
            kernel=lambda ctx, x, paddings, mode: ctx.xp.pad(x, paddings, mode=mode.lower()))


def _centre(op, grad):
    """The part of the padded gradient that lies over the original tensor."""
    paddings = op.get_attr("paddings")
    begin = [before for before, _ in paddings]
    end = [-after for _, after in paddings]
    end_mask = sum(1 << i for i, (_, after) in enumerate(paddings) if after == 0)
    return strided_slice(grad, begin, end, [1] * len(paddings), end_mask=end_mask)


@register_gradient("Pad")
def _PadGrad(op, grad):
    """The added constants depend on nothing: the input receives the centre of the gradient."""
    return [_centre(op, grad)]


@register_gradient("PadV2")
def _PadV2Grad(op, grad):
    """As for Pad (the constant value is an attr, not a differentiable input)."""
    return [_centre(op, grad)]


@register_gradient("MirrorPad")
def _MirrorPadGrad(op, grad):
    """A mirrored border is a second copy of the elements next to the edge: their gradient is
    the centre's plus the border's, folded back onto them."""
    attrs = {"paddings": op.get_attr("paddings"), "mode": op.get_attr("mode")}
    return [apply_op("MirrorPadGrad", [grad], attrs)]


def _mirror_pad_grad_shape(inputs, paddings, mode):
    dims = _dims(inputs[0].shape)
    if dims is None:
        return [(TensorShape(None), inputs[0].dtype.base_dtype)]
    out = [None if d is None else d - before - after for d, (before, after) in zip(dims, paddings)]
    return [(TensorShape(out), inputs[0].dtype.base_dtype)]


def _mirror_pad_grad_kernel(ctx, grad, paddings, mode):
    # NOTE: REFLECT's border skips the edge element (it mirrors x[1:1+before]); SYMMETRIC's does not.
    offset = 1 if mode == "REFLECT" else 0
    out = grad
    for axis, (before, after) in enumerate(paddings):  # one pass per padded axis
        if before == 0 and after == 0:
            continue
        n = out.shape[axis] - before - after

        def part(start, stop, step=1, axis=axis):
            return (slice(None),) * axis + (slice(start, stop, step),)

        folded = out[part(before, before + n)].copy()  # a fresh array: adding into it is safe
        if before:
            folded[part(offset, offset + before)] += out[part(before - 1, None, -1)]
        if after:
            mirrored = out[part(before + n + after - 1, before + n - 1, -1)]
            folded[part(n - offset - after, n - offset)] += mirrored
        out = folded
    return out


register_op("MirrorPadGrad", shape=_mirror_pad_grad_shape, kernel=_mirror_pad_grad_kernel)


@register_gradient("MirrorPadGrad")
def _MirrorPadGradGrad(op, grad):
    """Folding the borders back is the adjoint of mirroring them out: its gradient mirror-pads."""
    attrs = {"paddings": op.get_attr("paddings"), "mode": op.get_attr("mode")}
    return [apply_op("MirrorPad", [grad], attrs)]
