"""Exponential moving averages of variables: `ExponentialMovingAverage` and `assign_moving_average`.

`ema.apply([w, b])` gives each variable a *shadow* variable, `w/ExponentialMovingAverage`, that
starts at the variable's initial value, and returns one op that moves every shadow toward its
variable:

    shadow <- shadow - (1 - decay) * (shadow - variable)

With `num_updates` (usually the global step) the decay is `min(decay, (1 + n) / (10 + n))`, so the
averages follow the variables quickly early in training. Evaluation code restores the averages
into the live variables with `Saver(ema.variables_to_restore())`.
"""

from tfcore.framework import dtypes
from tfcore.framework.graph import GraphKeys, convert_to_tensor, get_default_graph
from tfcore.ops import binary_ops
from tfcore.ops.constant_op import constant
from tfcore.ops.control_flow_ops import group
from tfcore.ops.math_ops import cast
from tfcore.ops.scopes import get_variable, get_variable_scope, variable_scope
from tfcore.ops.variables import (
    Variable,
    assign,
    assign_sub,
    global_variables,
    moving_average_variables,
    trainable_variables,
)
from tfcore.train.optimizers import create_filled_slot, create_slot

# Public names, exported as tf.train.<name>.
__all__ = [
    "ExponentialMovingAverage",
]

_FLOAT_DTYPES = (dtypes.float16, dtypes.float32, dtypes.float64)


def assign_moving_average(variable, value, decay, zero_debias=True, name=None):
    """The op `variable <- variable - (1 - decay) * (variable - value)` (an AssignSub).

    With `zero_debias`, the average is kept in a hidden `biased` variable that starts at zero and
    is divided by `1 - decay^t` (t counted in `local_step`), which removes its bias toward zero.
    """
    graph = get_default_graph()
    with graph.name_scope(name or "AssignMovingAvg") as scope:
        decay = convert_to_tensor(1.0 - decay, name="decay")
        if decay.dtype.base_dtype != variable.dtype.base_dtype:
            decay = cast(decay, variable.dtype.base_dtype)
        if zero_debias:
            return _zero_debias(variable, value, decay)
        return assign_sub(variable, (variable - value) * decay, name=scope)


def _zero_debias(unbiased_var, value, one_minus_decay):
    """The zero-debiased update: a biased average from zero, rescaled by 1 - decay^t."""
    graph = get_default_graph()
    scope_name = graph.get_name_scope()
    with variable_scope(unbiased_var.op.name):
        with graph.control_dependencies(None):
            biased = get_variable(_unique_in_scope("biased"), initializer=_zeros_initializer,
                                  shape=unbiased_var.get_shape(), dtype=unbiased_var.dtype.base_dtype,
                                  trainable=False)
            local_step = get_variable(_unique_in_scope("local_step"), initializer=_zeros_initializer,
                                      shape=[], dtype=unbiased_var.dtype.base_dtype, trainable=False)
    update_biased = assign_sub(biased, (biased - value) * one_minus_decay)
    update_local_step = local_step.assign_add(1)
    bias_factor = 1 - binary_ops.pow(1.0 - one_minus_decay, update_local_step)
    return assign(unbiased_var, update_biased / bias_factor, name=scope_name + "/")


def _unique_in_scope(name):
    """`name`, or `name_1`, `name_2`, ... when the current variable scope already has a variable so named."""
    scope = get_variable_scope()
    if scope.reuse:
        return name
    taken = {v.op.name for v in global_variables(scope.name + "/")}
    full_name = scope.name + "/" + name
    if full_name not in taken:
        return name
    index = 1
    while f"{full_name}_{index}" in taken:
        index += 1
    return f"{name}_{index}"


def _zeros_initializer(shape, dtype=dtypes.float32, partition_info=None):
    """TF's zeros_initializer as get_variable calls it (its op is named "zeros")."""
    return constant(0, dtype=dtype, shape=shape, name="zeros")


class ExponentialMovingAverage:
    """Shadow variables that track exponential moving averages of variables (or tensors).

    `apply(var_list)` creates the shadows and returns the op that updates them; `average(var)` is
    the shadow of `var`; `variables_to_restore()` maps checkpoint names so that a Saver loads the
    averages into the live variables.
    """

    def __init__(self, decay, num_updates=None, zero_debias=False, name="ExponentialMovingAverage"):
        self._decay = decay
        self._num_updates = num_updates
        self._zero_debias = zero_debias
        self._name = name
        self._averages = {}  # variable or tensor -> its shadow variable

    @property
    def name(self):
        return self._name

    def apply(self, var_list=None):
        """Create shadows for `var_list` (default: trainable variables); return the op updating them.

        A variable's shadow starts at the variable's initial value and is added to the
        MOVING_AVERAGE_VARIABLES collection; a tensor's shadow starts at zero.
        """
        if var_list is None:
            var_list = trainable_variables()
        var_list = list(var_list)
        graph = get_default_graph()
        zero_debiased = set()
        for var in var_list:
            if var.dtype.base_dtype not in _FLOAT_DTYPES:
                raise TypeError(f"The variables must be half, float, or double: {var.name}")
            if var in self._averages:
                continue
            with graph.control_dependencies(None):
                if isinstance(var, Variable):
                    # NOTE: the shadow starts at the variable's current value if it is already
                    # initialized, else at its initial value (a cond, as in TF).
                    avg = create_slot(var, var.initialized_value(), self._name)
                    graph.add_to_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, var)
                else:
                    avg = create_filled_slot(var, 0, self._name)
                    if self._zero_debias:
                        zero_debiased.add(avg)
            self._averages[var] = avg

        with graph.name_scope(self._name) as scope:
            decay = convert_to_tensor(self._decay, dtype=dtypes.float32, name="decay")
            if self._num_updates is not None:
                num_updates = cast(self._num_updates, dtypes.float32, name="num_updates")
                decay = binary_ops.minimum(decay, (1.0 + num_updates) / (10.0 + num_updates))
            updates = []
            for var in var_list:
                avg = self._averages[var]
                updates.append(assign_moving_average(avg, var, decay, zero_debias=avg in zero_debiased))
            return group(*updates, name=scope)

    def average(self, var):
        """The shadow variable of `var`, or None if `apply` was not called on it."""
        return self._averages.get(var)

    def average_name(self, var):
        """The name of `var`'s shadow (what a checkpoint calls it), even before `apply` made it."""
        if var in self._averages:
            return self._averages[var].op.name
        return get_default_graph().unique_name(var.op.name + "/" + self._name, mark_as_used=False)

    def variables_to_restore(self, moving_avg_variables=None):
        """A Saver var_list: each averaged variable under its shadow's name, the rest under their own.

        By default the averaged variables are the trainable ones plus MOVING_AVERAGE_VARIABLES.
        """
        if moving_avg_variables is None:
            moving_avg_variables = trainable_variables() + moving_average_variables()
        averaged = list(dict.fromkeys(moving_avg_variables))  # de-duplicated, order kept
        name_map = {self.average_name(v): v for v in averaged}
        averaged_names = {v.name for v in averaged}
        for v in global_variables():
            if v.name not in averaged_names and v.op.name not in name_map:
                name_map[v.op.name] = v
        return name_map

