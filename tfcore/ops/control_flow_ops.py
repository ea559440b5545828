"""Control flow: `no_op`, `group`, `tuple` and `cond` (built from Switch and Merge).

`cond(pred, true_fn, false_fn)` builds both branches. Every tensor a branch uses from outside
enters through a `Switch` on `pred`, so in the untaken branch it is "dead" and nothing there runs;
a `Merge` after the branches forwards whichever result is alive. Gradients follow the same
routing in reverse, so they flow through the branch that was taken.
"""


import builtins

from tfcore.framework import dtypes
from tfcore.framework.graph import Operation, Tensor, apply_op, convert_to_tensor, get_default_graph
from tfcore.framework.registry import DEAD, NotDifferentiable, register_gradient, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.ops.array_ops import identity, zeros_like
from tfcore.ops.constant_op import constant

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = [
    "no_op",
    "group",
    "tuple",
    "with_dependencies",
    "cond",
]

# ================================================================================================
# NoOp, group, tuple
# ================================================================================================

register_op("NoOp", shape=lambda inputs: [], kernel=lambda ctx: None)
NotDifferentiable("NoOp")


def no_op(name=None):
    """An op that does nothing: useful as an anchor for control dependencies."""
    return apply_op("NoOp", [], name=name)


def group(*inputs, **kwargs):
    """One op that runs all of `inputs` (ops or tensors)."""
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"Unknown keyword arguments: {', '.join(kwargs)}")
    flat = []
    for i in inputs:
        flat.extend(i if isinstance(i, list | builtins.tuple) else [i])
    graph = get_default_graph()
    with graph.control_dependencies(flat):
        return no_op(name=name or "group_deps")


def tuple(tensors, name=None, control_inputs=None):  # noqa: A001 - TF's name
    """The same tensors, each available only after all of them (and `control_inputs`) are."""
    graph = get_default_graph()
    with graph.name_scope(name or "tuple"):
        gate = group(*[t for t in tensors if t is not None], *(control_inputs or []))
        out = []
        for t in tensors:
            if t is None:
                out.append(None)
            else:
                with graph.control_dependencies([gate]):
                    out.append(identity(t))
        return out


def with_dependencies(dependencies, output_tensor, name=None):
    """`output_tensor`'s value, computed only after `dependencies` have run."""
    with get_default_graph().control_dependencies(dependencies):
        return identity(output_tensor, name=name)


# ================================================================================================
# Switch: route `data` to output 0 (pred false) or output 1 (pred true); the other is dead
# ================================================================================================


def _switch_shape(inputs):
    data, pred = inputs
    if pred.shape.ndims not in (None, 0):
        raise ValueError(f"pred must be a scalar, got shape {pred.shape}")
    if pred.dtype.base_dtype != dtypes.bool:
        raise ValueError(f"pred must be bool, got {pred.dtype.name}")
    return [(data.shape, data.dtype.base_dtype)] * 2


def _switch_kernel(ctx, data, pred):
    return (DEAD, data) if bool(pred) else (data, DEAD)


register_op("Switch", shape=_switch_shape, kernel=_switch_kernel, branch="switch", forwards_inputs=(0,))


def switch(data, pred, name=None):
    """(output_false, output_true): `data` comes out on the side `pred` selects."""
    return apply_op("Switch", [convert_to_tensor(data), convert_to_tensor(pred)], name=name or "Switch")


@register_gradient("Switch")
def _SwitchGrad(op, grad_false, grad_true):
    """The live side's gradient flows back: merge the two (zeros on a side that got none)."""
    if grad_false is None and grad_true is None:
        return [None, None]
    grad_false = grad_false if grad_false is not None else zeros_like(op.outputs[0])
    grad_true = grad_true if grad_true is not None else zeros_like(op.outputs[1])
    return [merge([grad_false, grad_true])[0], None]


# ================================================================================================
# Merge: forward the first live input, and its index
# ================================================================================================


def _merge_shape(inputs):
    shape = inputs[0].shape
    for t in inputs[1:]:
        shape = shape if shape == t.shape else TensorShape(None) if shape.ndims != t.shape.ndims else \
            TensorShape([a if a == b else None for a, b in zip(shape.as_list(), t.shape.as_list())])
    return [(shape, inputs[0].dtype.base_dtype), (TensorShape([]), dtypes.int32)]


def _merge_kernel(ctx, *inputs):
    for index, value in enumerate(inputs):
        if value is not DEAD:
            return value, index
    return DEAD, DEAD


register_op("Merge", shape=_merge_shape, kernel=_merge_kernel, branch="merge", forwards_inputs=True)


def merge(inputs, name=None):
    """(value, index) of the one live tensor among `inputs`."""
    return apply_op("Merge", [convert_to_tensor(t) for t in inputs], name=name or "Merge")


@register_gradient("Merge")
def _MergeGrad(op, grad, _):
    """Send the gradient back to the input that was live: a Switch on the cond's predicate."""
    pred = op._cond_pred
    grad_false, grad_true = switch(grad, pred)
    return [grad_false, grad_true]


# ================================================================================================
# cond
# ================================================================================================


class CondContext:
    """While a branch is built, tensors from outside enter it through a Switch (made once each).

    It is one of the graph's control-flow contexts: `apply_op` calls `capture` for each input of an
    op built inside the branch and `add_op` for the op.
    """

    def __init__(self, graph, pred, branch, outer):
        self.graph = graph
        self.pred = pred
        self.branch = branch          # 0: false branch, 1: true branch
        self.outer = outer
        self.captured = {}
        self.pivot = None

    def capture(self, tensor):
        """The branch-side version of `tensor` (itself if it was made inside this branch).

        Variable references are not switched (an assign needs the variable itself); ops using
        them are gated by the pivot instead (see `add_op`).
        """
        if _inside(tensor.op, self) or tensor.dtype.name.endswith("_ref"):
            return tensor
        if tensor not in self.captured:
            self.graph._control_flow_contexts.pop()
            try:
                self.captured[tensor] = switch(tensor, self.pred)[self.branch]
            finally:
                self.graph._control_flow_contexts.append(self)
        return self.captured[tensor]


    def add_op(self, op):
        """Called for every new op inside the branch: an op none of whose inputs comes through the
        branch (a constant, a variable read) gets a control input from the branch's pivot, so that
        it is dead, and does not run, when the branch is not taken."""
        graph = self.graph
        op._cond_context = self
        gated = any(_inside(t.op, self) or t in self.captured.values() for t in op.inputs) or any(
            _inside(c, self) for c in op.control_inputs)
        if not gated:
            if self.pivot is None:
                graph._control_flow_contexts.pop()
                try:
                    self.pivot = identity(switch(self.pred, self.pred)[self.branch], name="pivot")
                finally:
                    graph._control_flow_contexts.append(self)
                self.pivot.op._cond_context = self
            if op is not self.pivot.op:
                op._add_control_input(self.pivot.op)



def _inside(op, context):
    c = getattr(op, "_cond_context", None)
    while c is not None:
        if c is context:
            return True
        c = c.outer
    return False


def cond(pred, true_fn=None, false_fn=None, strict=False, name=None, fn1=None, fn2=None):
    """`true_fn()` if `pred` else `false_fn()`: only the chosen branch runs.

    Both functions must return the same structure (a tensor, or a list/tuple of tensors).
    """
    true_fn = true_fn or fn1
    false_fn = false_fn or fn2
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError("true_fn and false_fn must be callable.")
    graph = get_default_graph()
    pred = convert_to_tensor(pred)
    if pred.dtype.base_dtype != dtypes.bool or pred.shape.ndims not in (None, 0):
        raise ValueError(f"cond: pred must be a scalar bool tensor, got {pred}")
    with graph.name_scope(name or "cond"):
        results = []
        for branch, fn in ((1, true_fn), (0, false_fn)):
            outer = graph._control_flow_contexts[-1] if graph._control_flow_contexts else None
            context = CondContext(graph, pred, branch, outer)
            graph._control_flow_contexts.append(context)
            try:
                out = fn()
                flat = _flatten_results(out)
                flat = [identity(t) if isinstance(t, Tensor) else _op_result(t) for t in flat]
            finally:
                graph._control_flow_contexts.pop()
            results.append((out, flat))
        (true_out, true_flat), (false_out, false_flat) = results
        if len(true_flat) != len(false_flat):
            raise ValueError("true_fn and false_fn must return the same number of results: "
                             f"{len(true_flat)} vs {len(false_flat)}")
        merged = []
        for t, f in zip(true_flat, false_flat):
            if t.dtype.base_dtype != f.dtype.base_dtype:
                raise ValueError(f"Outputs of true_fn and false_fn must have the same type: "
                                 f"{t.dtype.name}, {f.dtype.name}")
            value, _ = merge([f, t])
            value.op._cond_pred = pred
            merged.append(value)
    return _pack_like(true_out, merged)


def _flatten_results(out):
    if isinstance(out, list | builtins.tuple):
        flat = []
        for o in out:
            flat.extend(_flatten_results(o))
        return flat
    if isinstance(out, Operation):
        return [out]
    return [convert_to_tensor(out)]


def _op_result(op):
    # An op returned by a branch: represent it by a scalar that exists once the op ran.
    with get_default_graph().control_dependencies([op]):
        return constant(True)


def _pack_like(structure, flat):
    flat = list(flat)

    def build(s):
        if isinstance(s, list):
            return [build(x) for x in s]
        if isinstance(s, builtins.tuple):
            items = [build(x) for x in s]
            return type(s)(*items) if hasattr(s, "_fields") else builtins.tuple(items)
        return flat.pop(0)
    return build(structure)
