"""The execution plan: what one `Session.run` signature needs, in order, with buffers freed early.

A plan is compiled once per (fetches, targets, fed tensors) and reused:
  1. prune: walk back from the fetches and targets through inputs and control inputs, stopping
     at fed tensors; nothing else in the graph runs;
  2. order: a topological order of what is left (ties broken by creation order, so runs are
     deterministic);
  3. bind: each op gets its kernel (attributes already bound) and integer slots for its inputs
     and outputs, and each slot is freed right after its last reader;
  4. reuse: an elementwise kernel (registered with `reuses_inputs`) may write its result into an
     input that dies at this op, when nothing else refers to that array (see `_donor`).

Variables have TF1 reference semantics: an op that reads a variable reads its value at the moment
that op runs, and a fetched variable shows its value at the end of the run (so a train op and the
global step fetched together show the step after the update).

`cond` marks the untaken branch "dead": an op with a dead input or dead control input does not run
and its outputs are dead; only `Merge` takes the live one of its inputs.

Devices (see tfcore/devices/): a `Placer` gives each op its device when the plan is compiled. Each
step gets its device's array module (`step.xp`). Where a value crosses devices the plan inserts a
copy step (one per tensor and target device) calling `tfcore.devices.copy`, the one function that
moves arrays; feeds are host arrays, fetches come back to the host, a constant on a device is copied
there once, and a variable's value lives on the variable's device. A plan with every op on the CPU
has no copy step and runs exactly as before.
"""

import functools
import heapq
import sys
import time

import numpy as np

from tfcore import devices
from tfcore.devices import placement
from tfcore.devices.cpu import CPU
from tfcore.framework import errors
from tfcore.framework.registry import DEAD, get_op_def

_VARIABLE_OPS = ("VariableV2",)


class VariableRef:
    """What a kernel receives for a ref input: the name of a variable and the store holding it."""

    __slots__ = ("name", "store")

    def __init__(self, name, store):
        self.name = name
        self.store = store

    def read(self):
        return self.store.read(self.name)

    def write(self, value):
        dict.__setitem__(self.store.values, self.name, value)  # a kernel's result: already on the device

    @property
    def initialized(self):
        return self.name in self.store.values


class RunContext:
    """Passed to stateful kernels: the array module (of the running op's device), the variable store
    and per-op random state."""

    def __init__(self, xp, store, session):
        self.xp = xp
        self.store = store
        self.session = session
        self.op = None

    def random_generator(self, seed, seed2):
        """The session's random generator for the running op (advances across runs, as in TF)."""
        gens = self.session._random_generators
        key = self.op.name
        if key not in gens:
            if seed is None and seed2 is None:
                gens[key] = np.random.default_rng()
            else:
                gens[key] = np.random.default_rng([int(seed or 0), int(seed2 or 0)])
        return gens[key]


class _Values(dict):
    """Variable values by name; a value written from outside a kernel (e.g. `Variable.load`) is
    moved to the variable's device. (Kernels write through `VariableRef.write`, on the right device.)"""

    __slots__ = ("devices",)

    def __init__(self):
        super().__init__()
        self.devices = {}  # name -> Device, for variables placed off the CPU

    def __setitem__(self, name, value):
        device = self.devices.get(name)
        if device is not None and not device.holds(value):
            value = devices.copy(value, device, devices.holder(value))
        dict.__setitem__(self, name, value)


class SessionVariables:
    """The values of one session's variables, keyed by variable op name, each on its device."""

    def __init__(self):
        self.values = _Values()

    def place(self, name, device):
        """Variable `name` lives on `device` (a plan placed it there): move a value already held."""
        values = self.values
        if device.is_host:
            if name in values.devices:
                del values.devices[name]
                if name in values:
                    value = values[name]
                    dict.__setitem__(values, name, devices.copy(value, CPU, devices.holder(value)))
            return
        values.devices[name] = device
        if name in values:
            values[name] = values[name]  # moved by _Values.__setitem__ when held elsewhere

    def read(self, name):
        try:
            return self.values[name]
        except KeyError:
            raise errors.FailedPreconditionError(
                None, None, f"Attempting to use uninitialized value {name}\n\t [[{{{{node {name}}}}}]]"
            ) from None


# Input sources of a step: (kind, payload); _VAR_COPY reads a variable on another device:
# payload (name, variable's device, step's device)
_SLOT, _VAR, _REF, _VAR_COPY = 0, 1, 2, 3

# Reusing an input's buffer saves nothing for a small array: inputs known to be smaller are skipped.
_REUSE_MIN_ELEMENTS = 4096


class _Step:
    __slots__ = ("op", "kernel", "stateful", "sources", "input_slots", "outputs", "frees", "control_slots",
                 "out_dtypes", "is_merge", "done_slot", "donors", "xp", "device")


class CopyOp:
    """What a copy step shows in traces and errors: "<tensor op>/_Copy_to_GPU_0" of type "_Copy"."""

    __slots__ = ("name", "type", "device", "inputs")

    def __init__(self, tensor, target):
        self.name = f"{tensor.op.name}/_Copy_{tensor.value_index}_to_{target.kind}_{target.index}"
        self.type = "_Copy"
        self.device = target.name
        self.inputs = [tensor]


def _copy_kernel(xp, value, target, source):
    return devices.copy(value, target, source)


def _constant_kernel(xp, value):
    return value


class Plan:
    """A compiled, reusable schedule for one run signature."""

    def __init__(self, graph, fetch_elements, feed_tensors, placer=None, store=None, constants=None):
        """Compile the plan. `placer` places ops (default: every op on the CPU, as an unconfigured
        session does); `store` learns where variables live; `constants` caches constants copied to a
        device, across the session's plans."""
        self.graph = graph
        feed_set = set(feed_tensors)
        fetch_tensors = [e for e in fetch_elements if not _is_op(e)]
        target_ops = [e for e in fetch_elements if _is_op(e)]
        ops = _prune(fetch_tensors, target_ops, feed_set)
        order = _topological_order(ops)
        placer = placer or placement.Placer()
        placed = placer.place(order, _ref_inputs)
        constants = {} if constants is None else constants

        slots = {}  # tensor (or a tensor's copy on a device) -> slot index

        def slot(t):
            if t not in slots:
                slots[t] = len(slots)
            return slots[t]

        self.feed_slots = [slot(t) for t in feed_tensors]
        where = dict.fromkeys(feed_tensors, CPU)  # tensor -> device holding its value (feeds: the host)
        op_done_slot = {}  # op -> slot holding its liveness (for control inputs)
        steps = []
        reuses = []  # per step: the input positions its kernel may write its result into

        def value_on(t, device):
            """The slot holding tensor `t` on `device`, adding a copy step the first time it is needed."""
            held = where[t]
            if device is None or held is device:
                return slot(t)
            key = (t, device)
            if key not in slots:
                steps.append(_copy_step(CopyOp(t, device), slot(t), slot(key), held, device, t, slot))
                reuses.append(())
            return slots[key]

        for op in order:
            device = placed[op]
            if op.type in _VARIABLE_OPS:
                # A variable op computes nothing; its readers read the store when they run.
                # Its liveness slot still exists so control dependencies on it work.
                step = _Step()
                step.op, step.device, step.xp = op, device, device.xp
                step.control_slots = [op_done_slot[c] for c in op.control_inputs if c in op_done_slot]
                step.kernel, step.stateful, step.sources, step.outputs = None, False, [], []
                step.input_slots = []
                step.out_dtypes, step.is_merge = [], False
                if store is not None:
                    store.place(op.name, device)
                reuses.append(())
            else:
                op_def = get_op_def(op.type)
                sources = []
                for i, t in enumerate(op.inputs):
                    if t in feed_set or t.op.type not in _VARIABLE_OPS:
                        sources.append((_SLOT, value_on(t, placement.input_device(op, i, device))))
                    elif i in op_def.ref_inputs:
                        sources.append((_REF, t.op.name))
                    else:
                        need = placement.input_device(op, i, device)
                        held = placed[t.op]
                        sources.append((_VAR, t.op.name) if need is None or need is held
                                       else (_VAR_COPY, (t.op.name, held, need)))
                step = _Step()  # after the copy steps its inputs need
                step.op, step.device, step.xp = op, device, placement.kernel_module(op, device)
                step.control_slots = [op_done_slot[c] for c in op.control_inputs if c in op_done_slot]
                step.kernel = _bind_kernel(op, op_def, device, constants)
                step.stateful = op_def.stateful
                step.is_merge = op.type == "Merge"
                step.sources = sources
                # Most ops read slots only: their arguments are then a plain list of slot values.
                step.input_slots = [p for k, p in sources] if all(k == _SLOT for k, _ in sources) else None
                step.outputs = [slot(t) for t in op.outputs]
                where.update(dict.fromkeys(op.outputs, placement.output_device(op, device)))
                step.out_dtypes = [t.dtype.as_numpy_dtype for t in op.outputs]
                reuses.append([i for i in op_def.reuses_inputs if not _known_small(op.inputs[i])])
            step.done_slot = op_done_slot[op] = slot(("done", op))
            steps.append(step)

        # Fetches: a fetched variable is read from the store at the end of the run; fetched values
        # come back to the host.
        self.fetch_sources = []
        for e in fetch_elements:
            if _is_op(e):
                self.fetch_sources.append((None, op_done_slot.get(e)))
            elif e in feed_set or e.op.type not in _VARIABLE_OPS:
                self.fetch_sources.append((_SLOT, value_on(e, CPU)))
            elif placed[e.op].is_host:
                self.fetch_sources.append((_VAR, e.op.name))
            else:
                self.fetch_sources.append((_VAR_COPY, (e.op.name, placed[e.op], CPU)))

        # Last use of each slot: free it right after that step (fetched slots are kept).
        keep = {p for kind, p in self.fetch_sources if kind == _SLOT}
        last_use = {}
        for index, step in enumerate(steps):
            for kind, payload in step.sources:
                if kind == _SLOT:
                    last_use[payload] = index
            for s in step.control_slots:
                last_use[s] = index
        frees = [[] for _ in steps]
        for s, index in last_use.items():
            if s not in keep:
                frees[index].append(s)
        # A kernel may overwrite an input slot read for the last time here, read once by this op,
        # neither fed nor fetched; at run time `_donor` checks that nothing else holds the array.
        never_donated = keep | set(self.feed_slots)
        for index, (step, f, positions) in enumerate(zip(steps, frees, reuses)):
            step.frees = tuple(f)
            input_slots = [payload if kind == _SLOT else None for kind, payload in step.sources]
            step.donors = tuple(
                (i, input_slots[i]) for i in positions
                if input_slots[i] is not None and input_slots[i] not in never_donated
                and last_use[input_slots[i]] == index and input_slots.count(input_slots[i]) == 1)
        self.steps = steps
        self.num_slots = len(slots)
        self.done_slots = op_done_slot
        # Only a `cond` (its Switch ops) makes dead values; without one no step checks for them.
        self.has_branches = any(op.type == "Switch" for op in order)

    def devices(self):
        """{op: Device} for the ops of this plan (copy steps not included)."""
        return {step.op: step.device for step in self.steps if not isinstance(step.op, CopyOp)}

    def copies(self):
        """The copy steps, as (tensor name, source device name, target device name), in run order."""
        return [(step.op.inputs[0].name, step.kernel.keywords["source"].name, step.device.name)
                for step in self.steps if isinstance(step.op, CopyOp)]

    def execute(self, feed_values, ctx, trace=None):
        """Run the steps; `feed_values` aligns with the feed tensors given at compile time."""
        with np.errstate(all="ignore"):  # like TF, kernels are silent about inf/nan (see check_numerics)
            return self._execute(feed_values, ctx, trace)

    def _execute(self, feed_values, ctx, trace):
        values = [None] * self.num_slots
        for s, v in zip(self.feed_slots, feed_values):
            values[s] = v
        for step in self.steps:
            if step.kernel is None:  # a variable op: alive, nothing to compute
                values[step.done_slot] = True
            else:
                _run_step(step, values, ctx, trace, self.has_branches)
            for s in step.frees:
                values[s] = None
        results = []
        for kind, payload in self.fetch_sources:
            if kind is None:
                results.append(None)
            elif kind == _VAR:
                results.append(ctx.store.read(payload).copy())  # the caller may mutate what it gets
            elif kind == _VAR_COPY:
                name, held, _ = payload
                results.append(devices.copy(ctx.store.read(name), CPU, held))
            else:
                v = values[payload]
                if v is DEAD:
                    raise errors.InvalidArgumentError(
                        None, None, "Retval of a fetch was not set: it lies in the untaken branch of a cond.")
                results.append(v)
        return results


def _ref_inputs(op):
    """The input positions where `op` takes a variable by reference."""
    return () if op.type in _VARIABLE_OPS else get_op_def(op.type).ref_inputs


def _copy_step(copy_op, source_slot, target_slot, source, target, tensor, slot):
    """A step copying the value in `source_slot` (on `source`) to `target_slot` (on `target`)."""
    step = _Step()
    step.op, step.device, step.xp = copy_op, target, target.xp
    step.control_slots = []
    step.kernel = functools.partial(_copy_kernel, target=target, source=source)
    step.stateful, step.is_merge = False, False
    step.sources = [(_SLOT, source_slot)]
    step.input_slots = [source_slot]
    step.outputs = [target_slot]
    step.out_dtypes = [tensor.dtype.as_numpy_dtype]
    step.done_slot = slot(("done", copy_op.name))
    return step


def _bind_kernel(op, op_def, device, constants):
    """The kernel of `op` on `device`, attributes bound: the device's own kernel where one is
    registered, and for a constant on a device its value, copied there once."""
    if op.type == "Const" and not device.is_host:
        key = (op, device)
        if key not in constants:
            value = np.asarray(op._attrs["value"], dtype=op.outputs[0].dtype.as_numpy_dtype)
            constants[key] = devices.copy(value, device)
        return functools.partial(_constant_kernel, value=constants[key])
    kernel = op_def.kernel_for(device.kind)
    if op._attrs:
        kernel = functools.partial(kernel, **op._attrs)
    if device.index != 0 and not device.is_host:
        kernel = _in_scope(kernel, device)
    return kernel


def _in_scope(kernel, device):
    """`kernel` run with `device` current (CuPy allocates on the current GPU)."""
    def run(*args, **kwargs):
        with device.scope():
            return kernel(*args, **kwargs)
    return run


def _run_step(step, values, ctx, trace, has_branches):
    """Run one op's kernel and store its outputs; an op with a dead input (or control input) is dead.

    (A function of its own, so that no array outlives the step in a local variable: `_donor`
    counts references.)
    """
    op = step.op
    if step.input_slots is not None:
        args = [values[s] for s in step.input_slots]
    else:
        args = _arguments(step, values, ctx.store)
    if has_branches and _is_dead(step, values, args):
        for s in step.outputs:
            values[s] = DEAD
        values[step.done_slot] = DEAD
        return
    started = time.perf_counter() if trace is not None else 0.0
    try:
        if step.stateful:
            ctx.op = op
            ctx.xp = step.xp
            result = step.kernel(ctx, *args)
        else:
            out = _donor(step, values, args) if step.donors else None
            result = step.kernel(step.xp, *args) if out is None else step.kernel(step.xp, *args, out=out)
    except errors.OpError as e:
        if e.op is None:
            e.op = op
        raise
    except (ValueError, IndexError, TypeError, ZeroDivisionError, FloatingPointError) as e:
        raise errors.InvalidArgumentError(
            None, op, f"{type(e).__name__} in op '{op.name}' ({op.type}): {e}") from e
    if trace is not None:
        trace.append((op, started, time.perf_counter()))
    outs = step.outputs
    if len(outs) == 1:
        values[outs[0]] = _as_array(step.xp, result, step.out_dtypes[0], step.device)
    elif outs:
        for s, r, dt in zip(outs, result, step.out_dtypes):
            values[s] = r if r is DEAD else _as_array(step.xp, r, dt, step.device)
    values[step.done_slot] = True


def _is_dead(step, values, args):
    """True when the op lies in an untaken branch: a dead input or control input (Merge: all dead)."""
    if step.is_merge:
        return all(a is DEAD for a in args)
    return any(a is DEAD for a in args) or any(values[s] is DEAD for s in step.control_slots)


def _known_small(tensor):
    """True when the tensor's static shape says it has fewer than _REUSE_MIN_ELEMENTS elements."""
    dims = tensor.shape.as_list() if tensor.shape.ndims is not None else [None]
    return None not in dims and int(np.prod(dims)) < _REUSE_MIN_ELEMENTS


def _arguments(step, values, store):
    """The kernel arguments of `step`: slot values, variable values (copied when the variable lives on
    another device), or references to variables."""
    args = []
    for kind, payload in step.sources:
        if kind == _SLOT:
            args.append(values[payload])
        elif kind == _VAR:
            args.append(store.read(payload))
        elif kind == _VAR_COPY:
            name, held, need = payload
            args.append(devices.copy(store.read(name), need, held))
        else:
            args.append(VariableRef(payload, store))
    return args


def _references(values, slot):
    """How many references the array in `values[slot]` has, as `_donor` counts them."""
    return sys.getrefcount(values[slot])


def _plan_references():
    """The count `_references` gives for an array held only by the plan: its slot and the arguments."""
    values = [np.empty(1)]
    args = [values[0]]  # noqa: F841 - the second reference, as a step's argument list holds it
    return _references(values, 0)


_PLAN_REFERENCES = _plan_references()


def _donor(step, values, args):
    """An input array the step's kernel may write its result into, or None.

    The plan has checked that the input dies at this step and is neither fed nor fetched. Here the
    array must also be a NumPy array that owns its writeable memory, have the result's dtype and
    shape (every other argument broadcasts into it), and be referenced by the plan alone: a
    variable's value, a constant, another slot or a view of it would each add a reference.
    """
    for position, slot in step.donors:
        if _references(values, slot) != _PLAN_REFERENCES:  # counted before `array` adds one
            continue
        array = args[position]
        if (type(array) is np.ndarray and array.base is None and array.flags.writeable
                and array.dtype == step.out_dtypes[0]
                and all(_broadcasts_to(a.shape, array.shape) for a in args)):
            return array
    return None


def _broadcasts_to(shape, target):
    """True when an array of `shape` broadcasts to exactly `target` (NumPy's rules)."""
    return len(shape) <= len(target) and all(
        d == t or d == 1 for d, t in zip(reversed(shape), reversed(target)))


def _as_array(xp, value, dtype, device=CPU):
    if value is DEAD:
        return DEAD
    if not isinstance(value, xp.ndarray) or value.dtype != dtype:
        if not device.is_host and xp is device.xp and not device.holds(value):
            # A Python scalar or a host array from a kernel on a device: moved by the one copy function.
            return devices.copy(np.asarray(value, dtype=dtype), device)
        value = xp.asarray(value, dtype=dtype) if dtype is not object else np.asarray(value, dtype=object)
    return value


def _is_op(element):
    return not hasattr(element, "value_index")


def _prune(fetch_tensors, target_ops, feed_set):
    """The ops needed to compute the fetches and run the targets, stopping at fed tensors."""
    needed = set()
    stack = [t.op for t in fetch_tensors if t not in feed_set] + list(target_ops)
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed.add(op)
        for t in op.inputs:
            if t not in feed_set:
                stack.append(t.op)
        stack.extend(op.control_inputs)
    return needed


def _topological_order(ops):
    """Kahn's algorithm over `ops`; among ready ops the one created first runs first."""
    pending = {}
    users = {op: [] for op in ops}
    for op in ops:
        deps = {t.op for t in op.inputs if t.op in users} | {c for c in op.control_inputs if c in users}
        pending[op] = len(deps)
        for d in deps:
            users[d].append(op)
    ready = [(op._id, op) for op, n in pending.items() if n == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, op = heapq.heappop(ready)
        order.append(op)
        for u in users[op]:
            pending[u] -= 1
            if pending[u] == 0:
                heapq.heappush(ready, (u._id, u))
    if len(order) != len(ops):
        stuck = sorted(op.name for op, n in pending.items() if n > 0)
        raise errors.InvalidArgumentError(None, None, f"Graph has a cycle through: {', '.join(stuck[:5])}")
    return order
