"""Optimizers: `Optimizer` (compute_gradients, apply_gradients, minimize, slots) and five update rules.

`opt.minimize(loss)` is `opt.apply_gradients(opt.compute_gradients(loss))`:

1. compute_gradients: `tf.gradients(loss, var_list)`, paired with the variables;
2. apply_gradients: create the optimizer's *slot* variables (per-variable state such as Adam's
   moving averages, named `<variable>/<Optimizer>`, `<variable>/<Optimizer>_1`, ...), then, under
   the name scope of the optimizer, one `Apply*` op per variable (`Adam/update_w/ApplyAdam`, see
   training_ops.py), the optimizer's finishing step (Adam advances its `beta1_power` and
   `beta2_power`), and, when a `global_step` is given, `assign_add(global_step, 1)` after all of
   it. The returned op is named after the optimizer ("GradientDescent", "Adam").

Slots are ordinary global, non-trainable variables, so `global_variables_initializer` initializes
them and `Saver` saves them. They are made with `variable_scope` and `get_variable`, as in TF1, so
their names and initializer ops are TF's (`w/Adam/Initializer/zeros`).
"""

from tfcore.framework import dtypes
from tfcore.framework.graph import GraphKeys, Tensor, convert_to_tensor, get_default_graph
from tfcore.ops.array_ops import fill
from tfcore.ops.array_ops import shape as shape_of
from tfcore.ops.constant_op import constant
from tfcore.ops.control_flow_ops import group
from tfcore.ops.control_flow_ops import tuple as gate_tuple
from tfcore.ops.gradients_impl import gradients
from tfcore.ops.math_ops import cast
from tfcore.ops.scopes import get_variable, variable_scope
from tfcore.ops.variables import Variable, assign_add, trainable_variables
from tfcore.train import training_ops

# Public names, exported as tf.train.<name>.
__all__ = [
    "Optimizer",
    "GradientDescentOptimizer",
    "MomentumOptimizer",
    "AdamOptimizer",
    "RMSPropOptimizer",
    "AdagradOptimizer",
]

_VALID_DTYPES = (dtypes.float16, dtypes.float32, dtypes.float64)


# ================================================================================================
# Slot variables (TF's slot_creator): `<primary op name>/<name>`, global and non-trainable
# ================================================================================================


def _filled_initializer(value, op_name):
    """An initializer `(shape, dtype, partition_info) -> tensor` filled with `value`.

    `op_name` is the name TF's initializer gives its op ("zeros", "ones", "Const").
    """
    def initializer(shape, dtype=dtypes.float32, partition_info=None):
        return constant(value, dtype=dtype, shape=shape, name=op_name)
    return initializer


def create_slot(primary, initial_value, name, dtype=None):
    """A slot variable for `primary` named `<primary op name>/<name>` (made unique with `_1`, ...).

    `initial_value` is a tensor, or a callable initializer `(shape, dtype, partition_info)` used
    when `primary`'s shape is fully defined. The slot is global and non-trainable.
    """
    dtype = dtypes.as_dtype(dtype or primary.dtype).base_dtype
    shape = primary.get_shape()
    if callable(initial_value) and not isinstance(initial_value, Tensor):
        kwargs = {"shape": shape, "validate_shape": True}
    else:
        kwargs = {"validate_shape": initial_value.get_shape().is_fully_defined()}
    graph = get_default_graph()
    # NOTE: slots are built outside any control dependencies in force (TF's init_scope).
    with graph.control_dependencies(None), variable_scope(None, default_name=primary.op.name + "/" + name):
        return get_variable("", initializer=initial_value, dtype=dtype, trainable=False, **kwargs)


def create_filled_slot(primary, value, name, dtype=None, initializer_name="zeros"):
    """A slot for `primary` whose every element starts at `value` (0 for most optimizer state).

    `initializer_name` names the initializer's op as TF's initializer does ("zeros", "ones", "Const").
    """
    dtype = dtypes.as_dtype(dtype or primary.dtype).base_dtype
    if primary.get_shape().is_fully_defined():
        return create_slot(primary, _filled_initializer(value, initializer_name), name, dtype)
    # Shape known only at run time: fill the shape of the primary's (initial) value.
    source = primary.initialized_value() if isinstance(primary, Variable) else primary
    with get_default_graph().control_dependencies(None):
        initial = fill(shape_of(source), constant(value, dtype=dtype))
    return create_slot(primary, initial, name, dtype)


# ================================================================================================
# Optimizer: the shared machinery
# ================================================================================================


def _call_if_callable(value):
    return value() if callable(value) else value


def _assert_valid_dtypes(tensors):
    for t in tensors:
        dtype = t.dtype.base_dtype
        if dtype not in _VALID_DTYPES:
            raise ValueError(f"Invalid type {dtype!r} for {t.name}, expected: {list(_VALID_DTYPES)}.")


def _check_updatable(var):
    if isinstance(var, Variable):
        return
    if isinstance(var, Tensor):
        raise NotImplementedError(f"Trying to update a Tensor {var}: only Variables can be optimized.")
    raise NotImplementedError(f"Trying to optimize unsupported type {var!r}")


class Optimizer:
    """Base class of the optimizers: subclasses define the slots and the update of one variable.

    Subclass hooks, called by `apply_gradients` in this order: `_create_slots(var_list)`,
    `_prepare()` (hyperparameters as tensors), `_apply_dense(grad, var)` for each variable, and
    `_finish(update_ops, name_scope)` (group them, plus any extra per-step update).
    """

    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2

    def __init__(self, use_locking, name):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        self._slots = {}  # slot name -> {variable op -> slot variable}
        self._non_slot_dict = {}  # (name, graph) -> variable (Adam's beta powers)

    def get_name(self):
        return self._name

    # --- the three public steps -----------------------------------------------------------------
    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP, aggregation_method=None,
                 colocate_gradients_with_ops=False, name=None, grad_loss=None):
        """Add ops that take one step to reduce `loss`; increments `global_step` when given."""
        grads_and_vars = self.compute_gradients(
            loss, var_list=var_list, gate_gradients=gate_gradients, aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops, grad_loss=grad_loss)
        if not [v for g, v in grads_and_vars if g is not None]:
            raise ValueError("No gradients provided for any variable, check your graph for ops that do not "
                             f"support gradients, between variables {[str(v) for _, v in grads_and_vars]} "
                             f"and loss {loss}.")
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP, aggregation_method=None,
                          colocate_gradients_with_ops=False, grad_loss=None):
        """A list of (gradient, variable) pairs, the gradient None where loss does not depend on it.

        `var_list` defaults to the trainable variables.
        """
        if callable(loss):
            raise TypeError("`loss` must be a Tensor in graph mode (tfcore has no eager execution).")
        if gate_gradients not in (Optimizer.GATE_NONE, Optimizer.GATE_OP, Optimizer.GATE_GRAPH):
            raise ValueError("gate_gradients must be one of: Optimizer.GATE_NONE, Optimizer.GATE_OP, "
                             f"Optimizer.GATE_GRAPH. Not {gate_gradients}")
        loss = convert_to_tensor(loss)
        _assert_valid_dtypes([loss])
        if grad_loss is not None:
            grad_loss = convert_to_tensor(grad_loss)
            _assert_valid_dtypes([grad_loss])
        if var_list is None:
            var_list = trainable_variables()
        else:
            var_list = _flatten(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        grads = gradients(loss, var_list, grad_ys=grad_loss,
                          gate_gradients=gate_gradients == Optimizer.GATE_OP,
                          aggregation_method=aggregation_method,
                          colocate_gradients_with_ops=colocate_gradients_with_ops)
        if gate_gradients == Optimizer.GATE_GRAPH:
            grads = gate_tuple(grads)
        grads_and_vars = list(zip(grads, var_list))
        _assert_valid_dtypes([v for g, v in grads_and_vars if g is not None])
        return grads_and_vars

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """The op that applies the gradients (None gradients are skipped), then bumps `global_step`."""
        grads_and_vars = tuple(grads_and_vars)
        if not grads_and_vars:
            raise ValueError("No variables provided.")
        converted = []
        for g, v in grads_and_vars:
            if g is not None:
                try:
                    g = convert_to_tensor(g)
                except (TypeError, ValueError):
                    raise TypeError(
                        f"Gradient must be convertible to a Tensor or IndexedSlices, or None: {g}") from None
            _check_updatable(v)
            converted.append((g, v))
        var_list = [v for g, v in converted if g is not None]
        if not var_list:
            raise ValueError(f"No gradients provided for any variable: {[str(v) for _, v in converted]}.")
        graph = get_default_graph()
        with graph.control_dependencies(None):
            self._create_slots(var_list)
        update_ops = []
        with graph.name_scope(name or self._name) as scope:
            self._prepare()
            for grad, var in converted:
                if grad is None:
                    continue
                with graph.name_scope("update_" + var.op.name):
                    update_ops.append(self._apply_dense(grad, var))
            if global_step is None:
                apply_updates = self._finish(update_ops, scope)
            else:
                # NOTE: the step is counted only after every update (and the _finish step) has run.
                with graph.control_dependencies([self._finish(update_ops, "update")]):
                    one = constant(1, dtype=global_step.dtype.base_dtype, name="value")
                    apply_updates = assign_add(global_step, one, name=scope).op
            train_ops = graph.get_collection_ref(GraphKeys.TRAIN_OP)
            if apply_updates not in train_ops:
                train_ops.append(apply_updates)
            return apply_updates

    # --- slots ----------------------------------------------------------------------------------
    def get_slot_names(self):
        """The names of the slots this optimizer makes ("m", "v" for Adam), sorted."""
        return sorted(self._slots)

    def get_slot(self, var, name):
        """The slot variable `name` of `var` (e.g. Adam's "m"), or None."""
        named_slots = self._slots.get(name)
        if not named_slots:
            return None
        return named_slots.get(_var_key(var))

    def variables(self):
        """The optimizer's variables in the current graph (slots and non-slot ones), sorted by name."""
        graph = get_default_graph()
        found = [v for v in self._non_slot_dict.values() if v.graph is graph]
        for named_slots in self._slots.values():
            found.extend(v for v in named_slots.values() if v.graph is graph)
        return sorted(found, key=lambda v: v.name)

    def _slot_dict(self, slot_name):
        return self._slots.setdefault(slot_name, {})

    def _filled_slot(self, var, value, slot_name, op_name, initializer_name):
        """The slot `slot_name` of `var`, created (filled with `value`) on first use."""
        named_slots = self._slot_dict(slot_name)
        key = _var_key(var)
        if key not in named_slots:
            named_slots[key] = create_filled_slot(var, value, op_name, initializer_name=initializer_name)
        return named_slots[key]

    def _zeros_slot(self, var, slot_name, op_name):
        return self._filled_slot(var, 0, slot_name, op_name, "zeros")

    def _create_non_slot_variable(self, initial_value, name, colocate_with):
        """A per-graph variable of the optimizer itself (Adam's beta powers), made once."""
        key = (name, colocate_with.graph)
        if key not in self._non_slot_dict:
            with get_default_graph().control_dependencies(None):
                self._non_slot_dict[key] = Variable(initial_value, name=name, trainable=False)
        return self._non_slot_dict[key]

    def _get_non_slot_variable(self, name, graph=None):
        return self._non_slot_dict.get((name, graph or get_default_graph()))

    # --- hooks for subclasses -------------------------------------------------------------------
    def _create_slots(self, var_list):
        pass

    def _prepare(self):
        pass

    def _apply_dense(self, grad, var):
        raise NotImplementedError(f"{type(self).__name__} must implement _apply_dense")

    def _finish(self, update_ops, name_scope):
        return group(*update_ops, name=name_scope)


def _var_key(var):
    return var.op


def _flatten(values):
    if isinstance(values, dict):
        values = list(values.values())
    out = []
    for v in values:
        out.extend(_flatten(v) if isinstance(v, list | tuple | dict) else [v])
    return out


def _as_dtype_of(tensor, var):
    """`tensor` (a hyperparameter) cast to `var`'s dtype, as TF's _apply_dense does."""
    return cast(tensor, var.dtype.base_dtype)


# ================================================================================================
# GradientDescentOptimizer: var -= lr * grad
# ================================================================================================


class GradientDescentOptimizer(Optimizer):
    """Plain gradient descent: var <- var - learning_rate * grad."""

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate

    def _prepare(self):
        self._learning_rate_tensor = convert_to_tensor(_call_if_callable(self._learning_rate),
                                                       name="learning_rate")

    def _apply_dense(self, grad, var):
        return training_ops.apply_gradient_descent(
            var, _as_dtype_of(self._learning_rate_tensor, var), grad, use_locking=self._use_locking).op


# ================================================================================================
# MomentumOptimizer: accum = momentum * accum + grad; var -= lr * accum (slot "momentum")
# ================================================================================================


class MomentumOptimizer(Optimizer):
    """Gradient descent with momentum (optionally Nesterov's), one slot "momentum" per variable."""

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum", use_nesterov=False):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = use_nesterov

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self):
        self._learning_rate_tensor = convert_to_tensor(_call_if_callable(self._learning_rate),
                                                       name="learning_rate")
        self._momentum_tensor = convert_to_tensor(_call_if_callable(self._momentum), name="momentum")

    def _apply_dense(self, grad, var):
        return training_ops.apply_momentum(
            var, self.get_slot(var, "momentum"), _as_dtype_of(self._learning_rate_tensor, var), grad,
            _as_dtype_of(self._momentum_tensor, var), use_locking=self._use_locking,
            use_nesterov=self._use_nesterov).op


# ================================================================================================
# AdamOptimizer: slots "m" and "v", and the non-slot variables beta1_power and beta2_power
# ================================================================================================


class AdamOptimizer(Optimizer):
    """Adam: moving averages of the gradient ("m") and its square ("v"), bias-corrected.

    `beta1_power` and `beta2_power` hold beta^t; each step uses them, then multiplies them by beta.
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, use_locking=False,
                 name="Adam"):
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._beta1 = beta1
        self._beta2 = beta2
        self._epsilon = epsilon

    def _get_beta_accumulators(self):
        graph = get_default_graph()
        return (self._get_non_slot_variable("beta1_power", graph=graph),
                self._get_non_slot_variable("beta2_power", graph=graph))

    def _create_slots(self, var_list):
        first_var = min(var_list, key=lambda v: v.name)
        self._create_non_slot_variable(self._beta1, "beta1_power", colocate_with=first_var)
        self._create_non_slot_variable(self._beta2, "beta2_power", colocate_with=first_var)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name)

    def _prepare(self):
        self._lr_t = convert_to_tensor(_call_if_callable(self._lr), name="learning_rate")
        self._beta1_t = convert_to_tensor(_call_if_callable(self._beta1), name="beta1")
        self._beta2_t = convert_to_tensor(_call_if_callable(self._beta2), name="beta2")
        self._epsilon_t = convert_to_tensor(_call_if_callable(self._epsilon), name="epsilon")

    def _apply_dense(self, grad, var):
        beta1_power, beta2_power = self._get_beta_accumulators()
        return training_ops.apply_adam(
            var, self.get_slot(var, "m"), self.get_slot(var, "v"), _as_dtype_of(beta1_power, var),
            _as_dtype_of(beta2_power, var), _as_dtype_of(self._lr_t, var), _as_dtype_of(self._beta1_t, var),
            _as_dtype_of(self._beta2_t, var), _as_dtype_of(self._epsilon_t, var), grad,
            use_locking=self._use_locking).op

    def _finish(self, update_ops, name_scope):
        graph = get_default_graph()
        with graph.control_dependencies(update_ops):
            beta1_power, beta2_power = self._get_beta_accumulators()
            update_beta1 = beta1_power.assign(beta1_power * self._beta1_t, use_locking=self._use_locking)
            update_beta2 = beta2_power.assign(beta2_power * self._beta2_t, use_locking=self._use_locking)
        return group(*update_ops, update_beta1, update_beta2, name=name_scope)


# ================================================================================================
# RMSPropOptimizer: slots "rms" (starts at ones), "momentum", and "mg" when centered
# ================================================================================================


class RMSPropOptimizer(Optimizer):
    """RMSProp: divide the step by a moving root mean square of recent gradients.

    The "rms" slot starts at 1 (not 0), as in TF1. `centered=True` also tracks the mean gradient
    ("mg") and divides by an estimate of the standard deviation instead.
    """

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10, use_locking=False,
                 centered=False, name="RMSProp"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._decay = decay
        self._momentum = momentum
        self._epsilon = epsilon
        self._centered = centered

    def _create_slots(self, var_list):
        for v in var_list:
            self._filled_slot(v, 1, "rms", self._name, "ones")
            if self._centered:
                self._zeros_slot(v, "mg", self._name)
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self):
        self._learning_rate_tensor = convert_to_tensor(_call_if_callable(self._learning_rate),
                                                       name="learning_rate")
        self._decay_tensor = convert_to_tensor(_call_if_callable(self._decay), name="decay")
        self._momentum_tensor = convert_to_tensor(_call_if_callable(self._momentum), name="momentum")
        self._epsilon_tensor = convert_to_tensor(_call_if_callable(self._epsilon), name="epsilon")

    def _apply_dense(self, grad, var):
        hyper = [_as_dtype_of(t, var) for t in (self._learning_rate_tensor, self._decay_tensor,
                                                 self._momentum_tensor, self._epsilon_tensor)]
        rms, mom = self.get_slot(var, "rms"), self.get_slot(var, "momentum")
        if self._centered:
            return training_ops.apply_centered_rms_prop(var, self.get_slot(var, "mg"), rms, mom, *hyper, grad,
                                                        use_locking=self._use_locking).op
        return training_ops.apply_rms_prop(var, rms, mom, *hyper, grad, use_locking=self._use_locking).op


# ================================================================================================
# AdagradOptimizer: slot "accumulator" (starts at initial_accumulator_value)
# ================================================================================================


class AdagradOptimizer(Optimizer):
    """Adagrad: per-element step sizes lr / sqrt(sum of squared gradients so far)."""

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False, name="Adagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError(f"initial_accumulator_value must be positive: {initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value

    def _create_slots(self, var_list):
        for v in var_list:
            self._filled_slot(v, self._initial_accumulator_value, "accumulator", self._name, "Const")

    def _prepare(self):
        self._learning_rate_tensor = convert_to_tensor(_call_if_callable(self._learning_rate),
                                                       name="learning_rate")

    def _apply_dense(self, grad, var):
        return training_ops.apply_adagrad(var, self.get_slot(var, "accumulator"),
                                          _as_dtype_of(self._learning_rate_tensor, var), grad,
                                          use_locking=self._use_locking).op

