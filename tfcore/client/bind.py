"""Binding, the fourth pass of a plan (see plan.py): each placed op becomes a `Step`.

A step holds the op's kernel with its attributes bound, its `KernelContext`, the slots it reads
and writes, and where its inputs come from (a slot, a variable's value, a variable reference).
Where a value crosses devices, a copy step comes first. What the binder knows about an op comes
from the op's `register_op` facts.
"""

import functools

import numpy as np

from tfcore import devices
from tfcore.client.session_state import VariableRef
from tfcore.devices import placement
from tfcore.devices.cpu import CPU
from tfcore.framework.registry import KernelContext

# Input sources of a step: (kind, payload). SLOT: a slot index; VAR: a variable's name (its value
# is read when the step runs); REF: a VariableRef; VAR_COPY: (name, variable's device, step's device).
SLOT, VAR, REF, VAR_COPY = 0, 1, 2, 3

# Reusing an input's buffer saves nothing for a small array: inputs known to be smaller are skipped.
_REUSE_MIN_ELEMENTS = 4096


class Step:
    """One op of a plan (or a copy between devices), ready to run."""

    __slots__ = ("op", "device", "kernel", "ctx", "sources", "input_slots", "outputs", "out_dtypes",
                 "control_slots", "done_slot", "is_merge", "reusable", "frees", "donors", "fused")

    def __init__(self, op, device, kernel, ctx, sources, outputs, out_dtypes, control_slots, done_slot,
                 is_merge=False, reusable=()):
        self.op, self.device, self.kernel, self.ctx = op, device, kernel, ctx
        self.sources = sources
        # Most ops read slots only: their arguments are then a plain list of slot values.
        self.input_slots = [p for _, p in sources] if all(k == SLOT for k, _ in sources) else None
        self.outputs, self.out_dtypes = outputs, out_dtypes
        self.control_slots, self.done_slot = control_slots, done_slot
        self.is_merge = is_merge
        self.reusable = reusable  # input positions the kernel may overwrite (its `reuses_inputs`)
        self.frees, self.donors = (), ()  # set by the lifetimes pass
        self.fused = ()  # the ops of a fused chain this step runs (client/fusion.py), else ()


class CopyOp:
    """What a copy step shows in traces and errors: "<tensor op>/_Copy_to_GPU_0" of type "_Copy"."""

    __slots__ = ("name", "type", "device", "inputs")

    def __init__(self, tensor, target):
        self.name = f"{tensor.op.name}/_Copy_{tensor.value_index}_to_{target.kind}_{target.index}"
        self.type = "_Copy"
        self.device = target.name
        self.inputs = [tensor]


def _copy_kernel(ctx, value, target, source):
    return devices.copy(value, target, source)



class Binder:
    """Turns placed ops into steps: slots for values, copy steps where values cross devices."""

    def __init__(self, feed_tensors, placed, state):
        self.placed, self.state = placed, state
        self.slots = {}  # tensor (or (tensor, device) for its copy there) -> slot index
        self.feed_set = set(feed_tensors)
        self.feed_slots = [self.slot(t) for t in feed_tensors]
        self.where = dict.fromkeys(feed_tensors, CPU)  # tensor -> device holding its value
        self.done_slots = {}  # op -> slot holding its liveness (for control inputs)
        # Buffer reuse (the lifetimes pass): slots that may hold one array, and slots whose array a
        # variable or a constant may hold too (never overwritten).
        self.alias_groups = []
        self.outside_slots = set()
        self.steps = []

    def slot(self, key):
        if key not in self.slots:
            self.slots[key] = len(self.slots)
        return self.slots[key]

    def value_on(self, t, device):
        """The slot holding tensor `t` on `device`, adding a copy step the first time it is needed."""
        held = self.where[t]
        if device is None or held is device:
            return self.slot(t)
        key = (t, device)
        if key not in self.slots:
            copy_op = CopyOp(t, device)
            kernel = functools.partial(_copy_kernel, target=device, source=held)
            self.steps.append(Step(copy_op, device, kernel, KernelContext(device.xp, copy_op),
                                   [(SLOT, self.slot(t))], [self.slot(key)], [t.dtype.as_numpy_dtype],
                                   [], self.slot(("done", copy_op.name))))
        return self.slots[key]

    def bind(self, op):
        """Add the step of `op` (after the copy steps its inputs need)."""
        op_def, device = op.op_def, self.placed[op]
        control = [self.done_slots[c] for c in op.control_inputs if c in self.done_slots]
        done = self.done_slots[op] = self.slot(("done", op))
        if op_def.variable:  # computes nothing: readers read the variable's value when they run
            self.state.variables.place(op.name, device)
            self.steps.append(Step(op, device, None, None, [], [], [], control, done))
            return
        sources = [self.source(op, i, t, device) for i, t in enumerate(op.inputs)]
        outputs = [self.slot(t) for t in op.outputs]
        self.where.update(dict.fromkeys(op.outputs, placement.output_device(op, device)))
        slot_inputs = [p for kind, p in sources if kind == SLOT]
        forwarded = _positions(op_def.forwards_inputs, len(sources))
        if forwarded:  # an output may be (a view of) one of these inputs' arrays
            self.alias_groups.append([sources[i][1] for i in forwarded if sources[i][0] == SLOT] + outputs)
            if any(sources[i][0] != SLOT for i in forwarded):  # ... of a variable's value
                self.outside_slots.update(outputs)
        if op_def.constant or op_def.ref_inputs:  # a constant's array; a value a variable now holds
            self.outside_slots.update(outputs + (slot_inputs if op_def.ref_inputs else []))
        ctx = KernelContext(placement.kernel_module(op, device), op, self.state.random_state,
                            runner=self.state.runner if device.is_host else None)
        reusable = tuple(i for i in op_def.reuses_inputs if not _known_small(op.inputs[i]))
        self.steps.append(Step(op, device, self.kernel(op, device), ctx, sources, outputs,
                               [t.dtype.as_numpy_dtype for t in op.outputs], control, done,
                               is_merge=op_def.branch == "merge", reusable=reusable))

    def source(self, op, i, t, device):
        """Where input `i` (tensor `t`) of `op`, run on `device`, comes from."""
        if t in self.feed_set or not t.op.op_def.variable:
            return SLOT, self.value_on(t, placement.input_device(op, i, device))
        if i in op.op_def.ref_inputs:
            return REF, VariableRef(t.op.name, self.state.variables)
        need, held = placement.input_device(op, i, device), self.placed[t.op]
        return (VAR, t.op.name) if need is None or need is held else (VAR_COPY, (t.op.name, held, need))

    def kernel(self, op, device):
        """The kernel of `op` on `device`, attributes bound: its fast kernel there unless the session
        runs reference kernels; for a `constant` op off the host, its value, computed and copied once."""
        op_def = op.op_def
        if op_def.constant and not device.is_host:
            key = (op, device)
            if key not in self.state.constants:
                value = op_def.kernel(KernelContext(np, op), **op._attrs)
                value = np.asarray(value, dtype=op.outputs[0].dtype.as_numpy_dtype)
                self.state.constants[key] = devices.copy(value, device)
            return functools.partial(_constant_kernel, value=self.state.constants[key])
        kernel = op_def.kernel_for(device.kind, reference=self.state.reference_kernels)
        if op._attrs:
            kernel = functools.partial(kernel, **op._attrs)
        if device.index != 0 and not device.is_host:
            kernel = _in_scope(kernel, device)
        return kernel

    def fetch_source(self, e):
        """Where fetch `e` comes from: a fetched variable is read at the end of the run; fetched
        values come back to the host."""
        if is_op(e):
            return None, self.done_slots.get(e)
        if e in self.feed_set or not e.op.op_def.variable:
            return SLOT, self.value_on(e, CPU)
        if self.placed[e.op].is_host:
            return VAR, e.op.name
        return VAR_COPY, (e.op.name, self.placed[e.op], CPU)


def _positions(fact, n):
    """The input positions a fact names: a tuple of them, True for all `n`, False for none."""
    return tuple(range(n)) if fact is True else tuple(fact or ())


def _constant_kernel(ctx, value):
    return value


def _in_scope(kernel, device):
    """`kernel` run with `device` current (CuPy allocates on the current GPU)."""
    def run(*args, **kwargs):
        with device.scope():
            return kernel(*args, **kwargs)
    return run


def _known_small(tensor):
    """True when the tensor's static shape says it has fewer than _REUSE_MIN_ELEMENTS elements."""
    dims = tensor.shape.as_list() if tensor.shape.ndims is not None else [None]
    return None not in dims and int(np.prod(dims)) < _REUSE_MIN_ELEMENTS


def is_op(element):
    """True for an Operation (a run target), False for a Tensor."""
    return not hasattr(element, "value_index")
