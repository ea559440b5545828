"""tfcore's threads: how many a session uses, the pool they come from, and how a plan runs on them.

A session owns a `Scheduler`, sized by `ConfigProto` as in TF: `intra_op_parallelism_threads` threads
for the pieces of one op (a convolution over tiles of its batch, a matrix product over blocks of
rows), `inter_op_parallelism_threads` for ops of a plan that do not depend on each other. 0 (the
default) means the CPUs this process may use (`tfcore.platform.cpus.usable_cpus`: its affinity and
its cgroup's CPU quota); 1 and 1 give the serial engine, which runs everything on the calling thread.

While a session runs, the BLAS under NumPy (OpenBLAS) runs one thread (threadpoolctl): every piece of
work is one BLAS call on one thread, and the session's own threads share the cores. OpenBLAS's own
threads meet at a barrier inside every product; when the machine is busy and one of them is
descheduled, all wait. Here a thread that finishes its piece takes the next one, so a descheduled
thread holds back one piece, not the whole op.

Kernels see none of this: a kernel hands its independent pieces to ``ctx.map(work, pieces)``
(`KernelContext.map`), which calls `Scheduler.map`. Pieces are chosen by the kernel from the shapes
alone and combined in their order, so results do not depend on the number of threads.

Inter-op: the plan's steps form a graph (a step waits for the steps that write what it reads, and
steps that use one variable keep the plan's order: see `Dependencies`). The calling thread runs the
steps in the plan's order as they become ready; a step that took long in an earlier run ("heavy")
goes to a pool thread when other work is ready beside it, so that two convolutions of a backward pass
run at the same time.
"""

import concurrent.futures
import contextlib
import heapq
import itertools
import threading

import numpy as np
from threadpoolctl import ThreadpoolController

from tfcore.client.bind import REF, SLOT, VAR, VAR_COPY
from tfcore.platform import cpus

# A step that took longer than this in a plan's first run may run on a pool thread beside others.
HEAVY_SECONDS = 0.5e-3

_POOLS = {}
_POOLS_LOCK = threading.Lock()
_BLAS = []  # the BLAS libraries' threadpoolctl controllers, found on first use


def _shared_pool(workers):
    """The process's pool of `workers` threads (sessions of one size share it)."""
    with _POOLS_LOCK:
        if workers not in _POOLS:
            _POOLS[workers] = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="tfcore")
        return _POOLS[workers]


def _blas_libraries():
    if not _BLAS:  # (the scan of the loaded libraries takes milliseconds: once, on first use)
        _BLAS.append(ThreadpoolController().select(user_api="blas").lib_controllers)
    return _BLAS[0]


@contextlib.contextmanager
def one_blas_thread():
    """Inside: NumPy's BLAS uses one thread; afterwards what it used before."""
    libraries = _blas_libraries()
    saved = [lib.get_num_threads() for lib in libraries]
    for lib in libraries:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, n in zip(libraries, saved):
            lib.set_num_threads(n)


def _size(requested, name):
    if requested is None or requested == 0:
        return cpus.usable_cpus()
    requested = int(requested)
    if requested < 0:
        raise ValueError(f"ConfigProto.{name} must be >= 0 (0: one per usable CPU), got {requested}")
    return requested


class Scheduler:
    """A session's threads: `intra_op` for the pieces of an op, `inter_op` for independent ops."""

    def __init__(self, intra_op=0, inter_op=0):
        self.intra_op = _size(intra_op, "intra_op_parallelism_threads")
        self.inter_op = _size(inter_op, "inter_op_parallelism_threads")
        # The caller's thread works too; a step run beside it on a pool thread may split its own work.
        helpers = (self.intra_op - 1) + (self.inter_op - 1)
        self._pool = _shared_pool(helpers) if helpers > 0 else None
        self.runner = self.map if self.intra_op > 1 else None  # what `KernelContext.map` calls

    @property
    def threads(self):
        """{"intra_op", "inter_op", "blas"}: the thread counts this session runs with."""
        return {"intra_op": self.intra_op, "inter_op": self.inter_op, "blas": 1}

    def map(self, work, pieces):
        """``[work(p) for p in pieces]`` on up to `intra_op` threads, the caller's among them: each
        thread takes the next piece not yet taken, until none is left."""
        n = len(pieces)
        results = [None] * n
        taken = itertools.count()

        def drain():
            for i in iter(taken.__next__, None):
                if i >= n:
                    return
                results[i] = work(pieces[i])

        helpers = [self._pool.submit(_quietly, drain) for _ in range(min(self.intra_op, n) - 1)]
        try:
            drain()
        finally:
            # Helpers that have not started find nothing left: cancel them; wait for the others.
            started = [f for f in helpers if not f.cancel()]
            concurrent.futures.wait(started)
        for f in started:
            f.result()  # raises a helper's error
        return results

    def execute(self, plan, feed_values, trace=None):
        """Run `plan` (`Plan.execute`'s work) with one BLAS thread, its steps on this scheduler."""
        with one_blas_thread():
            if self.inter_op < 2 or not plan.timed or not plan.dependencies().heavy:
                return plan.run_serial(feed_values, trace, timed=not plan.timed)
            return self._run_concurrent(plan, feed_values, trace)

    def _run_concurrent(self, plan, feed_values, trace):
        deps = plan.dependencies()
        values = plan.start_values(feed_values)
        pending = list(deps.pending)
        unread = list(deps.readers)
        ready = [i for i, count in enumerate(pending) if count == 0]
        heapq.heapify(ready)
        running, failure = {}, None
        while (ready or running) and failure is None:
            while ready and failure is None:
                index = heapq.heappop(ready)
                # A heavy step goes to a pool thread when another heavy step is ready to run beside it.
                if (deps.offload[index] and len(running) < self.inter_op - 1
                        and any(deps.offload[i] for i in ready)):
                    running[self._pool.submit(_quietly, plan.run_step, index, values, trace)] = index
                    continue
                try:
                    plan.run_step(index, values, trace)
                except BaseException as error:
                    failure = error
                    break
                self._finished(deps, index, values, pending, unread, ready)
            if running:
                done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in done:
                    index = running.pop(future)
                    if future.exception() is not None:
                        failure = failure or future.exception()
                    else:
                        self._finished(deps, index, values, pending, unread, ready)
        concurrent.futures.wait(running)
        if failure is not None:
            raise failure
        return plan.fetch_all(values)

    @staticmethod
    def _finished(deps, index, values, pending, unread, ready):
        """Step `index` is done: free the slots it read last, and release the steps that waited on it."""
        for s in deps.reads[index]:
            unread[s] -= 1
            if unread[s] == 0 and s not in deps.kept:
                values[s] = None
        for user in deps.users[index]:
            pending[user] -= 1
            if pending[user] == 0:
                heapq.heappush(ready, user)


class Dependencies:
    """The graph of a plan's steps, for running them out of order but with the plan's results.

    Step j waits for step i (i before j in the plan) when j reads a slot i writes (its outputs and its
    liveness), when both use one variable and one of them may write it (a variable read sees the
    writes that came before it in the plan, none after), and when j overwrites an input array
    (`donors`) that i reads too. Slots are freed when their last reader is done (`readers` counts
    them); `offload` marks the heavy steps.
    """

    def __init__(self, steps, num_slots, kept, groups, durations):
        writer = {}
        for index, step in enumerate(steps):
            for s in (*step.outputs, step.done_slot):
                writer[s] = index
        self.reads = [tuple({p for kind, p in step.sources if kind == SLOT} | set(step.control_slots))
                      for step in steps]
        waits = [{writer[s] for s in reads if s in writer} for reads in self.reads]
        _variable_order(steps, waits)
        _donor_order(steps, self.reads, groups, waits)
        self.pending = [len(w) for w in waits]
        self.users = [[] for _ in steps]
        for index, w in enumerate(waits):
            for i in w:
                self.users[i].append(index)
        self.readers = [0] * num_slots
        for reads in self.reads:
            for s in reads:
                self.readers[s] += 1
        self.kept = kept
        self.offload = [d > HEAVY_SECONDS and step.device.is_host for step, d in zip(steps, durations)]
        self.heavy = sum(self.offload) > 1  # whether two steps could ever run side by side


def _variable_order(steps, waits):
    """Steps that use one variable keep their plan order where one of them may write it (REF)."""
    last_write, reads_since = {}, {}
    for index, step in enumerate(steps):
        for kind, payload in step.sources:
            if kind == REF:  # the kernel may write the variable
                name = payload.name
                waits[index].update(reads_since.pop(name, ()))
                if name in last_write:
                    waits[index].add(last_write[name])
                last_write[name] = index
            elif kind in (VAR, VAR_COPY):  # a read of the value
                name = payload if kind == VAR else payload[0]
                if name in last_write:
                    waits[index].add(last_write[name])
                reads_since.setdefault(name, set()).add(index)
        waits[index].discard(index)


def _donor_order(steps, reads, groups, waits):
    """A step that overwrites an input waits for every other reader of that input's alias group."""
    readers_of = {}
    for index, slots in enumerate(reads):
        for s in slots:
            readers_of.setdefault(groups.get(s, s), set()).add(index)
    for index, step in enumerate(steps):
        for _, s in step.donors:
            waits[index].update(readers_of.get(groups.get(s, s), set()) - {index})


def _quietly(work, *args):
    """`work(*args)` silent about inf and nan, as kernels are on the calling thread (NumPy's error
    state is per thread)."""
    with np.errstate(all="ignore"):
        return work(*args)
