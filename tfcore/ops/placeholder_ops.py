"""Feeding values in: placeholder (a tensor whose value is fed at run time) and
placeholder_with_default (one that takes a default value when it is not fed).

Each op is one block: public wrapper, shape function, kernel (against `ctx.xp`), gradient.
"""

from tfcore.framework import dtypes, errors
from tfcore.framework.graph import apply_op, convert_to_tensor
from tfcore.framework.registry import NotDifferentiable, register_gradient, register_op
from tfcore.framework.tensor_shape import as_shape

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = ["placeholder", "placeholder_with_default"]


# ================================================================================================
# Feeding values in
# ================================================================================================


def placeholder(dtype, shape=None, name=None):
    """A tensor whose value must be fed at run time (`feed_dict={x: value}`)."""
    dtype = dtypes.as_dtype(dtype).base_dtype
    return apply_op("Placeholder", [], {"dtype": dtype, "shape": as_shape(shape)}, name=name)


_TF_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def _placeholder_kernel(ctx, dtype, shape):
    # Only reached when the placeholder is needed and was not fed.
    dims = "<unknown>" if shape.ndims is None else "[" + ",".join(
        "?" if d is None else str(d) for d in shape.as_list()) + "]"
    raise errors.InvalidArgumentError(
        None, ctx.op, f"You must feed a value for placeholder tensor '{ctx.op.name}' with dtype "
        f"{_TF_TYPE_NAMES.get(dtype.name, dtype.name)} and shape {dims}")


register_op("Placeholder", shape=lambda inputs, dtype, shape: [(shape, dtype)], kernel=_placeholder_kernel)
NotDifferentiable("Placeholder")


def placeholder_with_default(input, shape, name=None):
    """A placeholder that takes the value of `input` when it is not fed."""
    input = convert_to_tensor(input)
    return apply_op("PlaceholderWithDefault", [input], {"shape": as_shape(shape)}, name=name)


def _placeholder_with_default_shape(inputs, shape):
    if not shape.is_compatible_with(inputs[0].shape):
        raise ValueError(f"Default shape {inputs[0].shape} is not compatible with shape {shape}")
    return [(shape, inputs[0].dtype.base_dtype)]


register_op("PlaceholderWithDefault", shape=_placeholder_with_default_shape,
            kernel=lambda ctx, x, shape: x, forwards_inputs=(0,))


@register_gradient("PlaceholderWithDefault")
def _PlaceholderWithDefaultGrad(op, grad):
    """The default value flows straight through."""
    return [grad]
