"""`Optimizer`: the machinery every optimizer shares (compute_gradients, apply_gradients, minimize, slots).

A subclass defines its slots and the update of one variable; `tfcore.train.optimizers` holds the
five update rules of TF1. See there for what `minimize` builds, op by op.
"""

from tfcore.framework import dtypes
from tfcore.framework.graph import GraphKeys, Tensor, convert_to_tensor, get_default_graph
from tfcore.framework.indexed_slices import IndexedSlices
from tfcore.ops.array_ops import shape
from tfcore.ops.constant_op import constant
from tfcore.ops.control_flow_ops import group
from tfcore.ops.control_flow_ops import tuple as gate_tuple
from tfcore.ops.gather_ops import unsorted_segment_sum
from tfcore.ops.gradients_impl import gradients
from tfcore.ops.index_ops import unique
from tfcore.ops.variables import Variable, assign_add, trainable_variables
from tfcore.train.slot_creator import create_filled_slot

__all__ = ["Optimizer"]

_VALID_DTYPES = (dtypes.float16, dtypes.float32, dtypes.float64)


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
    `_prepare()` (hyperparameters as tensors), `_apply_dense(grad, var)` for each variable (or,
    for an IndexedSlices gradient, `_apply_sparse(grad, var)` with repeated rows summed), and
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
            if g is not None and not isinstance(g, IndexedSlices):
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
                    if isinstance(grad, IndexedSlices):
                        update_ops.append(self._apply_sparse_duplicate_indices(grad, var))
                    else:
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

    def _apply_sparse_duplicate_indices(self, grad, var):
        """Apply the IndexedSlices `grad`: the values of repeated rows summed first, then
        `_apply_sparse`."""
        unique_indices, positions = unique(grad.indices)
        summed = unsorted_segment_sum(grad.values, positions, shape(unique_indices)[0])
        return self._apply_sparse(IndexedSlices(summed, unique_indices, grad.dense_shape), var)

    def _apply_sparse(self, grad, var):
        raise NotImplementedError(f"{type(self).__name__} has no update for sparse gradients (_apply_sparse)")

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
