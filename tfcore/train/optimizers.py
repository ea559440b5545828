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

The base class lives in `tfcore.train.optimizer` and the slots in `tfcore.train.slot_creator`; this
module holds the five update rules and re-exports `Optimizer`, `create_slot` and `create_filled_slot`.
"""

from tfcore.framework.graph import convert_to_tensor, get_default_graph
from tfcore.ops.control_flow_ops import group
from tfcore.ops.elementwise_ops import sqrt
from tfcore.ops.math_ops import cast
from tfcore.ops.scatter_ops import scatter_add, scatter_sub
from tfcore.ops.variables import assign, assign_sub
from tfcore.train import training_ops
from tfcore.train.optimizer import Optimizer
from tfcore.train.slot_creator import create_filled_slot, create_slot  # noqa: F401 - re-exported
from tfcore.train.sparse_training_ops import sparse_apply

# Public names, exported as tf.train.<name>.
__all__ = [
    "Optimizer",
    "GradientDescentOptimizer",
    "MomentumOptimizer",
    "AdamOptimizer",
    "RMSPropOptimizer",
    "AdagradOptimizer",
]


def _call_if_callable(value):
    return value() if callable(value) else value



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

    def _apply_sparse_duplicate_indices(self, grad, var):
        """var[indices] -= lr * values: scatter_sub adds up repeated rows itself."""
        delta = grad.values * _as_dtype_of(self._learning_rate_tensor, var)
        return scatter_sub(var, grad.indices, delta, use_locking=self._use_locking).op


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

    def _apply_sparse(self, grad, var):
        return sparse_apply("SparseApplyMomentum", [var, self.get_slot(var, "momentum")],
                            [_as_dtype_of(self._learning_rate_tensor, var)], grad,
                            [_as_dtype_of(self._momentum_tensor, var)],
                            {"use_locking": self._use_locking, "use_nesterov": self._use_nesterov}).op


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

    def _apply_sparse(self, grad, var):
        """As TF: m and v decay everywhere, the rows of `grad` get their share added (scatter_add),
        and the whole variable takes the step lr_t * m / (sqrt(v) + epsilon)."""
        beta1_power, beta2_power = (_as_dtype_of(b, var) for b in self._get_beta_accumulators())
        lr, beta1, beta2, epsilon = (_as_dtype_of(t, var) for t in
                                     (self._lr_t, self._beta1_t, self._beta2_t, self._epsilon_t))
        lr = lr * sqrt(1 - beta2_power) / (1 - beta1_power)
        graph, m, v = get_default_graph(), self.get_slot(var, "m"), self.get_slot(var, "v")
        m_t = assign(m, m * beta1, use_locking=self._use_locking)
        with graph.control_dependencies([m_t]):
            m_t = scatter_add(m, grad.indices, grad.values * (1 - beta1), use_locking=self._use_locking)
        v_t = assign(v, v * beta2, use_locking=self._use_locking)
        with graph.control_dependencies([v_t]):
            v_t = scatter_add(v, grad.indices, (grad.values * grad.values) * (1 - beta2),
                              use_locking=self._use_locking)
        var_update = assign_sub(var, lr * m_t / (sqrt(v_t) + epsilon), use_locking=self._use_locking)
        return group(var_update, m_t, v_t)

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

    def _apply_sparse(self, grad, var):
        hyper = [_as_dtype_of(t, var) for t in (self._learning_rate_tensor, self._decay_tensor,
                                                 self._momentum_tensor, self._epsilon_tensor)]
        slots = [self.get_slot(var, "rms"), self.get_slot(var, "momentum")]
        if self._centered:
            return sparse_apply("SparseApplyCenteredRMSProp", [var, self.get_slot(var, "mg"), *slots], hyper,
                                grad, [], {"use_locking": self._use_locking}).op
        return sparse_apply("SparseApplyRMSProp", [var, *slots], hyper, grad, [],
                            {"use_locking": self._use_locking}).op


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

    def _apply_sparse(self, grad, var):
        return sparse_apply("SparseApplyAdagrad", [var, self.get_slot(var, "accumulator")],
                            [_as_dtype_of(self._learning_rate_tensor, var)], grad, [],
                            {"use_locking": self._use_locking, "update_slots": True}).op

