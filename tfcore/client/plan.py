"""The execution plan: what one `Session.run` signature needs, in order, with buffers freed early.

A plan is compiled once per (fetches, targets, fed tensors) and reused, in six passes:
  1. prune: walk back from the fetches and targets through inputs and control inputs, stopping
     at fed tensors; nothing else in the graph runs;
  2. order: a topological order of what is left (ties broken by creation order, so runs are
     deterministic);
  3. place: each op gets its device (`tfcore.devices.placement.Placer`);
  4. bind: each op becomes a `Step`: its kernel (attributes bound), its `KernelContext`, integer
     slots for its inputs and outputs, and a copy step before it wherever a value crosses devices;
  5. fuse: a chain of ops with a fused fast kernel (`register_fusion`: convolution, bias, ReLU)
     becomes one step, where nothing else reads the values inside the chain (client/fusion.py);
  6. lifetimes: each slot is freed right after its last reader, and a kernel registered with
     `reuses_inputs` may write its result into an input that dies at its op (`donors`).

A session runs a plan through its `Scheduler` (client/scheduler.py), which may run independent
steps at the same time; without one the steps run one after another on the calling thread.

The plan reads what it needs to know about an op from the op's `register_op` facts (see
`tfcore/framework/registry.py`) and names no op type.

Variables have TF1 reference semantics: an op that reads a variable reads its value at the moment
that op runs, and a fetched variable shows its value at the end of the run (so a train op and the
global step fetched together show the step after the update).

`cond` marks the untaken branch "dead": an op with a dead input or dead control input does not run
and its outputs are dead; only the `merge` op takes the live one of its inputs.

Devices (see tfcore/devices/): where a value crosses devices the plan inserts a copy step (one per
tensor and target device) calling `tfcore.devices.copy`, the one function that moves arrays; feeds
are host arrays, fetches come back to the host, a constant on a device is copied there once, and a
variable's value lives on the variable's device. A plan with every op on the CPU has no copy step.
"""

import heapq
import time

import numpy as np

from tfcore import devices
from tfcore.client import fusion
from tfcore.client.bind import SLOT, VAR, VAR_COPY, Binder, CopyOp, is_op
from tfcore.client.scheduler import Dependencies
from tfcore.client.session_state import SessionState
from tfcore.devices import placement
from tfcore.devices.cpu import CPU
from tfcore.framework import errors
from tfcore.framework.registry import DEAD


class Plan:
    """A compiled, reusable schedule for one run signature."""

    def __init__(self, graph, fetch_elements, feed_tensors, placer=None, state=None):
        """Compile the plan. `placer` places ops (default: every op on the CPU, as an unconfigured
        session does); `state` is the session's `SessionState` (variables, random state, constants
        on devices, the reference-kernels switch)."""
        self.graph = graph
        self.state = state or SessionState()
        fetch_tensors = [e for e in fetch_elements if not is_op(e)]
        target_ops = [e for e in fetch_elements if is_op(e)]
        order = _topological_order(_prune(fetch_tensors, target_ops, set(feed_tensors)))
        placed = (placer or placement.Placer()).place(order, _ref_inputs)
        binder = Binder(feed_tensors, placed, self.state)
        for op in order:
            binder.bind(op)
        self.fetch_sources = [binder.fetch_source(e) for e in fetch_elements]
        self.feed_slots = binder.feed_slots
        self.num_slots = len(binder.slots)
        self.done_slots = binder.done_slots
        self.kept = {p for kind, p in self.fetch_sources if kind in (SLOT, None) and p is not None}
        self.steps = binder.steps
        if not self.state.reference_kernels:
            self.steps = fusion.fuse(self.steps, self.kept)
        self.groups = _lifetimes(self.steps, self.kept, set(self.feed_slots) | binder.outside_slots,
                                 binder.alias_groups)
        # Only a `cond` (its switch ops) makes dead values; without one no step checks for them.
        self.has_branches = any(op.op_def.branch == "switch" for op in order)
        self.durations = None  # each step's time in the first run (the scheduler's "heavy" steps)
        self._dependencies = None

    def devices(self):
        """{op: Device} for the ops of this plan (copy steps not included; fused ops included)."""
        return {op: step.device for step in self.steps if not isinstance(step.op, CopyOp)
                for op in (step.fused or (step.op,))}

    def copies(self):
        """The copy steps, as (tensor name, source device name, target device name), in run order."""
        return [(step.op.inputs[0].name, step.kernel.keywords["source"].name, step.device.name)
                for step in self.steps if isinstance(step.op, CopyOp)]

    def execute(self, feed_values, trace=None, scheduler=None):
        """Run the steps (on `scheduler`'s threads where given); `feed_values` aligns with the feed
        tensors given at compile time."""
        with np.errstate(all="ignore"):  # like TF, kernels are silent about inf/nan (see check_numerics)
            if scheduler is None:
                return self.run_serial(feed_values, trace)
            return scheduler.execute(self, feed_values, trace)

    @property
    def timed(self):
        """Whether a first run has measured each step's time."""
        return self.durations is not None

    def start_values(self, feed_values):
        """The slot values at the start of a run: the feeds in their slots, nothing else."""
        values = [None] * self.num_slots
        for s, v in zip(self.feed_slots, feed_values):
            values[s] = v
        return values

    def run_serial(self, feed_values, trace=None, timed=False):
        """Run the steps one after another in plan order; `timed`: record each step's time."""
        values = self.start_values(feed_values)
        durations = []
        for index, step in enumerate(self.steps):
            started = time.perf_counter() if timed else 0.0
            self.run_step(index, values, trace)
            if timed:
                durations.append(time.perf_counter() - started)
            for s in step.frees:
                values[s] = None
        if timed:
            self.durations = durations
        return self.fetch_all(values)

    def run_step(self, index, values, trace=None):
        """Run step `index`, reading and writing `values`."""
        step = self.steps[index]
        if step.kernel is None:  # a variable op: alive, nothing to compute
            values[step.done_slot] = True
        else:
            _run_step(step, values, self.state.variables, trace, self.has_branches)

    def dependencies(self):
        """The steps' graph for running them out of order (`scheduler.Dependencies`), built once."""
        if self._dependencies is None:
            self._dependencies = Dependencies(self.steps, self.num_slots, self.kept, self.groups,
                                              self.durations or [0.0] * len(self.steps))
        return self._dependencies

    def fetch_all(self, values):
        """The fetched values, from the slots and variables at the end of a run."""
        return [self._fetch(kind, payload, values) for kind, payload in self.fetch_sources]

    def _fetch(self, kind, payload, values):
        if kind is None:
            return None
        if kind == VAR:
            return self.state.variables.read(payload).copy()  # the caller may mutate what it gets
        if kind == VAR_COPY:
            name, held, _ = payload
            return devices.copy(self.state.variables.read(name), CPU, held)
        if values[payload] is DEAD:
            raise errors.InvalidArgumentError(
                None, None, "Retval of a fetch was not set: it lies in the untaken branch of a cond.")
        return values[payload]


# --- passes 1 and 2: prune and order ----------------------------------------------------------
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


def _ref_inputs(op):
    """The input positions where `op` takes a variable by reference."""
    return op.op_def.ref_inputs


# --- pass 5: lifetimes ---------------------------------------------------------------------------
def _lifetimes(steps, kept, never_donated, alias_groups):
    """Free each slot after its last reader (fetched slots, `kept`, stay), and give each step the
    inputs its kernel may overwrite (`donors`).

    Slots joined by an op that forwards its inputs (`alias_groups`) may hold one array. An input
    may be overwritten where its group is read for the last time, through this one input, and no
    slot of the group is fed, fetched or shared with a variable or a constant (`never_donated`).
    Returns {slot: its group's representative} for the slots in groups.
    """
    last_use = {}
    for index, step in enumerate(steps):
        for kind, payload in step.sources:
            if kind == SLOT:
                last_use[payload] = index
        for s in step.control_slots:
            last_use[s] = index
    frees = [[] for _ in steps]
    for s, index in last_use.items():
        if s not in kept:
            frees[index].append(s)
    group = _groups(alias_groups)
    members, group_last = {}, {}
    for s, index in last_use.items():
        g = group.get(s, s)
        members.setdefault(g, set()).add(s)
        group_last[g] = max(index, group_last.get(g, index))
    blocked = {group.get(s, s) for s in kept | never_donated}
    for index, (step, f) in enumerate(zip(steps, frees)):
        step.frees = tuple(f)
        input_slots = [payload if kind == SLOT else None for kind, payload in step.sources]
        step.donors = tuple(
            (i, s) for i, s in ((i, input_slots[i]) for i in step.reusable)
            if s is not None and group.get(s, s) not in blocked and group_last[group.get(s, s)] == index
            and sum(input_slots.count(m) for m in members[group.get(s, s)]) == 1)
    return group


def _groups(alias_groups):
    """{slot: its group's representative} for the slots of `alias_groups`, joined where they meet."""
    parent = {}

    def root(s):
        while parent.setdefault(s, s) != s:
            parent[s] = parent[parent[s]]
            s = parent[s]
        return s

    for slots in alias_groups:
        for s in slots[1:]:
            parent[root(s)] = root(slots[0])
    return {s: root(s) for s in parent}


# --- running a step ------------------------------------------------------------------------------
def _run_step(step, values, variables, trace, has_branches):
    """Run one op's kernel and store its outputs; an op with a dead input (or control input) is dead."""
    op = step.op
    if step.input_slots is not None:
        args = [values[s] for s in step.input_slots]
    else:
        args = _arguments(step, values, variables)
    if has_branches and _is_dead(step, values, args):
        for s in step.outputs:
            values[s] = DEAD
        values[step.done_slot] = DEAD
        return
    started = time.perf_counter() if trace is not None else 0.0
    ctx = step.ctx
    try:
        if step.donors:
            ctx.out = _donor(step, values, args)
        result = step.kernel(ctx, *args)
    except errors.OpError as e:
        if e.op is None:
            e.op = op
        raise
    except (ValueError, IndexError, TypeError, ZeroDivisionError, FloatingPointError) as e:
        raise errors.InvalidArgumentError(
            None, op, f"{type(e).__name__} in op '{op.name}' ({op.type}): {e}") from e
    finally:
        ctx.out = None
    if trace is not None:
        ended = time.perf_counter()
        trace.append((op, started, ended))
        trace.extend((fused, ended, ended) for fused in step.fused[1:])
    outs = step.outputs
    if len(outs) == 1:
        values[outs[0]] = _as_array(step.ctx.xp, result, step.out_dtypes[0], step.device)
    elif outs:
        for s, r, dt in zip(outs, result, step.out_dtypes):
            values[s] = r if r is DEAD else _as_array(step.ctx.xp, r, dt, step.device)
    values[step.done_slot] = True


def _is_dead(step, values, args):
    """True when the op lies in an untaken branch: a dead input or control input (merge: all dead)."""
    if step.is_merge:
        return all(a is DEAD for a in args)
    return any(a is DEAD for a in args) or any(values[s] is DEAD for s in step.control_slots)


def _arguments(step, values, variables):
    """The kernel arguments of `step`: slot values, variable values (copied when the variable lives on
    another device), or references to variables."""
    args = []
    for kind, payload in step.sources:
        if kind == SLOT:
            args.append(values[payload])
        elif kind == VAR:
            args.append(variables.read(payload))
        elif kind == VAR_COPY:
            name, held, need = payload
            args.append(devices.copy(variables.read(name), need, held))
        else:
            args.append(payload)
    return args


def _donor(step, values, args):
    """The input array the step's kernel may write its result into (`ctx.out`), or None.

    The plan chose the candidates from the graph (`_lifetimes`): inputs that die at this step and
    that no other value may share. Here the array must also be a NumPy array that owns its writeable
    memory and has the result's dtype and shape (every other argument broadcasts into it).
    """
    for position, _ in step.donors:
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
