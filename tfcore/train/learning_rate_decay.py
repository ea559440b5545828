"""Learning-rate schedules: tensors that compute the learning rate from the global step.

`exponential_decay(0.8, step, 550.0, 0.99, staircase=True)` is the tensor
`0.8 * 0.99 ** floor(step / 550)`: pass it to an optimizer as its learning rate and each training
step reads the current global step. All arithmetic happens in the learning rate's dtype (float32
for a Python float), step and decay_steps included, as in TensorFlow; `decay_steps` may be a float
(classic code passes `num_examples / batch_size`).
"""

from tfcore.framework.graph import convert_to_tensor, get_default_graph
from tfcore.ops import binary_ops, comparison_ops, elementwise_ops, math_ops
from tfcore.ops.constant_op import constant
from tfcore.ops.control_flow_ops import cond
from tfcore.ops.math_ops import cast

# Public names, exported as tf.train.<name>.
__all__ = [
    "exponential_decay",
    "natural_exp_decay",
    "inverse_time_decay",
    "polynomial_decay",
    "piecewise_constant",
]


def _require_step(global_step, schedule):
    if global_step is None:
        raise ValueError(f"global_step is required for {schedule}.")


def _step_fraction(learning_rate, global_step, decay_steps, staircase):
    """(learning_rate, step / decay_steps) as tensors of learning_rate's dtype; floored for staircase."""
    learning_rate = convert_to_tensor(learning_rate, name="initial_learning_rate")
    dtype = learning_rate.dtype.base_dtype
    p = cast(global_step, dtype) / cast(decay_steps, dtype)
    if staircase:
        p = elementwise_ops.floor(p)
    return learning_rate, p


# ================================================================================================
# Exponential, natural exponential and inverse time decay
# ================================================================================================


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False, name=None):
    """learning_rate * decay_rate ^ (global_step / decay_steps); the exponent floored if `staircase`."""
    _require_step(global_step, "exponential_decay")
    with get_default_graph().name_scope(name or "ExponentialDecay") as scope:
        learning_rate, p = _step_fraction(learning_rate, global_step, decay_steps, staircase)
        decay_rate = cast(decay_rate, learning_rate.dtype.base_dtype)
        return math_ops.multiply(learning_rate, binary_ops.pow(decay_rate, p), name=scope)


def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False, name=None):
    """learning_rate * exp(-decay_rate) ^ (global_step / decay_steps) (floored exponent if `staircase`).

    NOTE: current TensorFlow computes exp(-decay_rate) first and raises it to the power, as here
    (TF 1.x computed exp(-decay_rate * p); the two differ only in rounding).
    """
    _require_step(global_step, "natural_exp_decay")
    natural_rate = elementwise_ops.exp(math_ops.negative(convert_to_tensor(decay_rate)))
    return exponential_decay(learning_rate, global_step, decay_steps, natural_rate, staircase=staircase,
                             name=name)


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False, name=None):
    """learning_rate / (1 + decay_rate * global_step / decay_steps) (floored ratio if `staircase`)."""
    _require_step(global_step, "inverse_time_decay")
    with get_default_graph().name_scope(name or "InverseTimeDecay") as scope:
        learning_rate, p = _step_fraction(learning_rate, global_step, decay_steps, staircase)
        dtype = learning_rate.dtype.base_dtype
        denominator = math_ops.add(cast(constant(1), dtype), math_ops.multiply(cast(decay_rate, dtype), p))
        return math_ops.divide(learning_rate, denominator, name=scope)


# ================================================================================================
# Polynomial decay
# ================================================================================================


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001, power=1.0,
                     cycle=False, name=None):
    """From learning_rate to end_learning_rate over decay_steps along (1 - step/decay_steps)^power.

    After decay_steps the rate stays at end_learning_rate; with `cycle` it restarts, over a
    period stretched to the next multiple of decay_steps above the step.
    """
    _require_step(global_step, "polynomial_decay")
    with get_default_graph().name_scope(name or "PolynomialDecay") as scope:
        learning_rate = convert_to_tensor(learning_rate, name="initial_learning_rate")
        dtype = learning_rate.dtype.base_dtype
        end_learning_rate = cast(end_learning_rate, dtype)
        power = cast(power, dtype)
        step = cast(global_step, dtype)
        steps = cast(decay_steps, dtype)
        if cycle:
            multiplier = comparison_ops.where(comparison_ops.equal(step, 0), constant(1.0, dtype=dtype),
                                        elementwise_ops.ceil(step / decay_steps))
            steps = math_ops.multiply(steps, multiplier)
        else:
            step = binary_ops.minimum(step, steps)
        p = math_ops.divide(step, steps)
        decayed = math_ops.multiply(learning_rate - end_learning_rate, binary_ops.pow(1 - p, power))
        return math_ops.add(decayed, end_learning_rate, name=scope)


# ================================================================================================
# Piecewise constant
# ================================================================================================


def piecewise_constant(x, boundaries, values, name=None):
    """A step function of `x`: values[0] for x <= boundaries[0], values[i] for x in
    (boundaries[i-1], boundaries[i]], and values[-1] beyond the last boundary.

    `boundaries` must have x's dtype (int32 boundaries are promoted for an int64 x); all `values`
    share one dtype.
    """
    if len(boundaries) != len(values) - 1:
        raise ValueError("The length of boundaries should be 1 less than the length of values")
    boundaries = [convert_to_tensor(b) for b in boundaries]
    values = [convert_to_tensor(v) for v in values]
    x = convert_to_tensor(x)
    for i, b in enumerate(boundaries):
        if b.dtype.base_dtype != x.dtype.base_dtype:
            # An int32 boundary (a Python int) promotes to an int64 step without loss; nothing else does.
            if b.dtype.base_dtype.name == "int32" and x.dtype.base_dtype.name == "int64":
                boundaries[i] = cast(b, x.dtype.base_dtype)
            else:
                raise ValueError(f"Boundaries ({b.dtype.base_dtype.name}) must have the same dtype as x "
                                 f"({x.dtype.base_dtype.name}).")
    for v in values[1:]:
        if v.dtype.base_dtype != values[0].dtype.base_dtype:
            raise ValueError("Values must have elements all with the same dtype "
                             f"({values[0].dtype.base_dtype.name} vs {v.dtype.base_dtype.name}).")
    with get_default_graph().name_scope(name or "PiecewiseConstant"):
        cases = [(x <= boundaries[0], values[0]), (x > boundaries[-1], values[-1])]
        for low, high, v in zip(boundaries[:-1], boundaries[1:], values[1:-1]):
            cases.append(((x > low) & (x <= high), v))
        return _case(cases, default=values[0])


def _case(cases, default):
    """The value of the first (predicate, value) pair whose predicate holds, else `default`.

    Nested `cond`s: the intervals of piecewise_constant are exclusive, so the order does not matter.
    """
    result = default
    for pred, value in reversed(cases):
        result = cond(pred, lambda v=value: v, lambda r=result: r)
    return result
