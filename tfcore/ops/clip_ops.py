"""Clipping: clip_by_value, clip_by_norm, global_norm and clip_by_global_norm, built from other ops."""

from tfcore.framework.graph import convert_to_tensor, get_default_graph
from tfcore.ops.array_ops import identity, ones_like
from tfcore.ops.binary_ops import maximum, minimum
from tfcore.ops.comparison_ops import where
from tfcore.ops.elementwise_ops import sqrt, square
from tfcore.ops.join_ops import stack
from tfcore.ops.math_ops import _scalar
from tfcore.ops.reduction_ops import reduce_sum

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = ["clip_by_value", "clip_by_norm", "global_norm", "clip_by_global_norm"]


# ================================================================================================
# Clipping: clip_by_value, clip_by_norm, global_norm, clip_by_global_norm
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
    with get_default_graph().name_scope(name or "clip_by_norm") as scope:
        t = convert_to_tensor(t, name="t")
        l2sum = reduce_sum(t * t, axes, keepdims=True)
        # NOTE: sqrt is kept away from 0 in both branches, so the gradient is never NaN
        nonzero = l2sum > 0
        l2norm = where(nonzero, sqrt(where(nonzero, l2sum, ones_like(l2sum))), l2sum)
        return identity(t * clip_norm / maximum(l2norm, clip_norm), name=scope)


def global_norm(t_list, name=None):
    """sqrt(sum of squares of every element of every tensor in `t_list`); None entries are skipped."""
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
