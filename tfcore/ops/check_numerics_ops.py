"""Numerics checks: `check_numerics` stops a run with InvalidArgumentError when a tensor holds NaN or
Inf, and `add_check_numerics_ops` puts such a check on every floating-point tensor of the graph.

The error names the check's message (for add_check_numerics_ops, the op and output checked) and
says what was found, as TF does: "ratio:0 : Tensor had Inf values".
"""

from tfcore.framework import dtypes, errors
from tfcore.framework.graph import apply_op, convert_to_tensor, get_default_graph
from tfcore.framework.registry import register_gradient, register_op
from tfcore.ops.control_flow_ops import group, with_dependencies

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = [
    "check_numerics",
    "verify_tensor_all_finite",
    "add_check_numerics_ops",
]

_FLOATS = (dtypes.float16, dtypes.float32, dtypes.float64)

# ================================================================================================
# CheckNumerics
# ================================================================================================


def check_numerics(tensor, message, name=None):
    """`tensor` unchanged, but running it fails with InvalidArgumentError if it holds NaN or Inf."""
    tensor = convert_to_tensor(tensor, name="tensor")
    return apply_op("CheckNumerics", [tensor], {"message": str(message)}, name=name)


def _check_numerics_shape(inputs, message):
    x = inputs[0]
    if x.dtype.base_dtype not in _FLOATS:
        raise TypeError(f"Value passed to parameter 'tensor' has DataType {x.dtype.base_dtype.name} not in "
                        "list of allowed values: float16, float32, float64")
    return [(x.shape, x.dtype.base_dtype)]


def _check_numerics_kernel(ctx, x, message):
    # Stateful only to know the op's name for the error (and so that it is never skipped or merged).
    xp = ctx.xp
    has_nan = bool(xp.isnan(x).any())
    has_inf = bool(xp.isinf(x).any())
    if has_nan or has_inf:
        found = "Inf and NaN" if has_nan and has_inf else "NaN" if has_nan else "Inf"
        raise errors.InvalidArgumentError(
            None, ctx.op, f"{message} : Tensor had {found} values\n\t [[{{{{node {ctx.op.name}}}}}]]")
    return x


register_op("CheckNumerics", shape=_check_numerics_shape, kernel=_check_numerics_kernel, forwards_inputs=(0,))


@register_gradient("CheckNumerics")
def _CheckNumericsGrad(op, grad):
    """The value passes through unchanged, so does the gradient, checked in turn (as in TF)."""
    return [check_numerics(grad, "Not a number (NaN) or infinity (Inf) values detected in gradient. "
                                 + op.get_attr("message"))]


def verify_tensor_all_finite(t, msg, name=None):
    """`t`, available only after a check that it holds no NaN or Inf."""
    graph = get_default_graph()
    with graph.name_scope(name or "VerifyFinite") as scope:
        t = convert_to_tensor(t, name="t")
        return with_dependencies([check_numerics(t, msg)], t, name=scope)


# ================================================================================================
# add_check_numerics_ops
# ================================================================================================


def add_check_numerics_ops():
    """One op that checks every float16/32/64 output of every op now in the default graph.

    The checks run one after another (each depends on the previous one), the order ops were
    created, so the first NaN or Inf reported is the earliest in the graph. Variables themselves
    (their ref outputs) are not checked, their reads are. Graphs with `cond` are not supported
    (as in TF): a check in an untaken branch could not run.
    """
    graph = get_default_graph()
    previous = []
    for op in graph.get_operations():
        for output in op.outputs:
            if output.dtype not in _FLOATS:  # ref dtypes (float32_ref) compare unequal: skipped
                continue
            if getattr(op, "_cond_context", None) is not None or op.type in ("Switch", "Merge"):
                raise ValueError("tf.add_check_numerics_ops() is not compatible with TensorFlow control flow "
                                 "operations such as tf.cond() or tf.while_loop().")
            with graph.control_dependencies(previous):
                previous = [check_numerics(output, f"{op.name}:{output.value_index}").op]
    return group(*previous)
