"""The execution plan: what one `Session.run` signature needs, in order, with buffers freed early.

A plan is compiled once per (fetches, targets, fed tensors) and reused:
  1. prune: walk back from the fetches and targets through inputs and control inputs, stopping
     at fed tensors; nothing else in the graph runs;
  2. order: a topological order of what is left (ties broken by creation order, so runs are
     deterministic);
  3. bind: each op gets its kernel and integer slots for its inputs and outputs, and each slot
     is freed right after its last reader.

Variables have TF1 reference semantics: an op that reads a variable reads its value at the moment
that op runs, and a fetched variable shows its value at the end of the run (so a train op and the
global step fetched together show the step after the update).

`cond` marks the untaken branch "dead": an op with a dead input or dead control input does not run
and its outputs are dead; only `Merge` takes the live one of its inputs.
"""

import heapq
import time

import numpy as np

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
        self.store.values[self.name] = value

    @property
    def initialized(self):
        return self.name in self.store.values


class RunContext:
    """Passed to stateful kernels: the array module, the variable store and per-op random state."""

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


class VariableStore:
    """The values of one session's variables, keyed by variable op name."""

    def __init__(self):
        self.values = {}

    def read(self, name):
        try:
            return self.values[name]
        except KeyError:
            raise errors.FailedPreconditionError(
                None, None, f"Attempting to use uninitialized value {name}\n\t [[{{{{node {name}}}}}]]"
            ) from None


# Input sources of a step: (kind, payload)
_SLOT, _VAR, _REF = 0, 1, 2


class _Step:
    __slots__ = ("op", "kernel", "stateful", "sources", "outputs", "attrs", "frees", "control_slots",
                 "out_dtypes", "is_merge")


class Plan:
    """A compiled, reusable schedule for one run signature."""

    def __init__(self, graph, fetch_elements, feed_tensors):
        self.graph = graph
        feed_set = set(feed_tensors)
        fetch_tensors = [e for e in fetch_elements if not _is_op(e)]
        target_ops = [e for e in fetch_elements if _is_op(e)]
        ops = _prune(fetch_tensors, target_ops, feed_set)
        order = _topological_order(ops)

        slots = {}  # tensor -> slot index

        def slot(t):
            if t not in slots:
                slots[t] = len(slots)
            return slots[t]

        self.feed_slots = [(t, slot(t)) for t in feed_tensors]
        op_done_slot = {}  # op -> slot holding its liveness (for control inputs)
        steps = []
        for op in order:
            if op.type in _VARIABLE_OPS:
                # A variable op computes nothing; its readers read the store when they run.
                # Its liveness slot still exists so control dependencies on it work.
                op_done_slot[op] = slot(("done", op))
                step = _Step()
                step.op, step.kernel, step.stateful, step.sources = op, None, False, []
                step.outputs, step.attrs, step.control_slots = [], {}, []
                step.out_dtypes, step.is_merge = [], False
                step.frees = ()
                steps.append(step)
                continue
            op_def = get_op_def(op.type)
            step = _Step()
            step.op = op
            step.kernel = op_def.kernel
            step.stateful = op_def.stateful
            step.attrs = op._attrs
            step.is_merge = op.type == "Merge"
            sources = []
            for i, t in enumerate(op.inputs):
                if t in feed_set:
                    sources.append((_SLOT, slot(t)))
                elif t.op.type in _VARIABLE_OPS:
                    sources.append((_REF if i in op_def.ref_inputs else _VAR, t.op.name))
                else:
                    sources.append((_SLOT, slot(t)))
            step.sources = sources
            step.control_slots = [op_done_slot[c] for c in op.control_inputs if c in op_done_slot]
            step.outputs = [slot(t) for t in op.outputs]
            step.out_dtypes = [t.dtype.as_numpy_dtype for t in op.outputs]
            op_done_slot[op] = slot(("done", op))
            steps.append(step)

        # Fetches: a fetched variable is read from the store at the end of the run.
        self.fetch_sources = []
        for e in fetch_elements:
            if _is_op(e):
                self.fetch_sources.append((None, op_done_slot.get(e)))
            elif e in feed_set:
                self.fetch_sources.append((_SLOT, slot(e)))
            elif e.op.type in _VARIABLE_OPS:
                self.fetch_sources.append((_VAR, e.op.name))
            else:
                self.fetch_sources.append((_SLOT, slot(e)))

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
        for step, f in zip(steps, frees):
            step.frees = tuple(f)
        self.steps = steps
        self.num_slots = len(slots)
        self.done_slots = op_done_slot

    def execute(self, feed_values, ctx, trace=None):
        """Run the steps; `feed_values` aligns with the feed tensors given at compile time."""
        with np.errstate(all="ignore"):  # like TF, kernels are silent about inf/nan (see check_numerics)
            return self._execute(feed_values, ctx, trace)

    def _execute(self, feed_values, ctx, trace):
        values = [None] * self.num_slots
        for (_, s), v in zip(self.feed_slots, feed_values):
            values[s] = v
        store = ctx.store
        for step in self.steps:
            op = step.op
            if step.kernel is None:  # a variable op: alive, nothing to compute
                values[self.done_slots[op]] = True
                continue
            dead = any(values[s] is DEAD for s in step.control_slots)
            args = []
            for kind, payload in step.sources:
                if kind == _SLOT:
                    v = values[payload]
                elif kind == _VAR:
                    v = store.read(payload)
                else:
                    v = VariableRef(payload, store)
                if v is DEAD:
                    dead = True
                args.append(v)
            if step.is_merge:
                dead = dead and all(a is DEAD for a in args)
            if dead:
                for s in step.outputs:
                    values[s] = DEAD
                values[self.done_slots[op]] = DEAD
            else:
                started = time.perf_counter() if trace is not None else 0.0
                try:
                    if step.stateful:
                        ctx.op = op
                        result = step.kernel(ctx, *args, **step.attrs)
                    else:
                        result = step.kernel(ctx.xp, *args, **step.attrs)
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
                    values[outs[0]] = _as_array(ctx.xp, result, step.out_dtypes[0])
                elif outs:
                    for s, r, dt in zip(outs, result, step.out_dtypes):
                        values[s] = r if r is DEAD else _as_array(ctx.xp, r, dt)
                values[self.done_slots[op]] = True
            for s in step.frees:
                values[s] = None
        results = []
        for kind, payload in self.fetch_sources:
            if kind is None:
                results.append(None)
            elif kind == _VAR:
                results.append(store.read(payload).copy())  # the caller may mutate what it gets
            else:
                v = values[payload]
                if v is DEAD:
                    raise errors.InvalidArgumentError(
                        None, None, "Retval of a fetch was not set: it lies in the untaken branch of a cond.")
                results.append(v)
        return results


def _as_array(xp, value, dtype):
    if value is DEAD:
        return DEAD
    if not isinstance(value, xp.ndarray) or value.dtype != dtype:
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
