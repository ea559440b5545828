"""One engine's worker process for the timed workloads: `python -m benchmarks.worker --engine NAME`.

Each engine runs in a process of its own, so that no engine's threads (TensorFlow's pools, PyTorch's
OpenMP team, NumPy's BLAS threads) share a process with another's; the parent (`benchmarks.run`)
alternates its requests between the workers. The protocol is one JSON object per line: requests on
stdin, replies on the original stdout (everything the engines print goes to stderr).

    {"cmd": "setup", "workload": "lenet_train"}                      -> {"ok": true, "blas": [...],
                                                                         "session_threads": ...}
    {"cmd": "calibrate", "warmup": 2, "sample_seconds": 0.25}        -> {"calls": 12}
    {"cmd": "sample"}                                                -> {"seconds": 0.081}
    {"cmd": "profile"}                                               -> {"rows": [...]}  (TF1 engines)
    {"cmd": "close"}                                                 -> {"ok": true}
    {"cmd": "exit"}

The first reply, before any request, says whether the engine imported: {"ok": true, ...} or
{"error": ...}. With it come the worker's pid, its /proc/self/cgroup, the BLAS and thread variables
of its environment and what BLAS the engine's import loaded (`blas_info`); the reply to "setup",
after the workload's first step, says again what BLAS ran and, where the session has them, the
session's `threads` (tfcore: {"intra_op": ..., "inter_op": ..., "blas": ...}).
A failing request answers {"error": "..."} and the worker goes on.

`--cgroup DIR` makes the worker join the cgroup DIR (writing its pid into DIR/cgroup.procs) before
it imports anything beyond the standard library, so that the engine sees the CPU quota at import.
"""

import argparse
import json
import os
import sys
import traceback

BLAS_FIELDS = ("user_api", "internal_api", "prefix", "version", "architecture", "num_threads",
               "threading_layer")
REPORTED_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                      "MKL_NUM_THREADS", "BENCH_THREADS")


def blas_info():
    """The BLAS and OpenMP libraries loaded in this process, from `threadpoolctl.threadpool_info()`:
    per library its API, version, kernel ("architecture", e.g. SkylakeX), threads and threading layer."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError as error:
        return {"error": f"threadpoolctl: {error}"}
    return [{field: library.get(field) for field in BLAS_FIELDS} for library in threadpool_info()]


def _jsonable(value):
    """`value` as JSON can carry it: numbers, strings and None as they are, dicts item by item,
    anything else as its repr."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return repr(value)


def _proc_cgroup():
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as file:
            return file.read()
    except OSError:
        return None


def join_cgroup(directory):
    """Move this process into the cgroup `directory` (its pid into cgroup.procs)."""
    with open(os.path.join(directory, "cgroup.procs"), "w", encoding="ascii") as procs:
        procs.write(str(os.getpid()))


def _reply(channel, message):
    channel.write(json.dumps(message) + "\n")
    channel.flush()


class Worker:
    """One engine, imported once; each request method answers one JSON-able dict."""

    def __init__(self, engine):
        from benchmarks import engines

        self.engine = engine
        self.module = engines.load(engine)
        self.prepared = None
        self.calls = 1

    def setup(self, workload):
        """Build `workload`, run its first step; say what BLAS ran and the session's threads."""
        from benchmarks.workloads import SETUPS

        self.close()
        self.prepared = SETUPS[workload](self.engine, self.module)
        self.prepared.step()  # the first run builds tfcore's plan: a failure shows here, outside the timing
        threads = getattr(self.prepared.sess, "threads", None) if self.prepared.sess is not None else None
        return {"ok": True, "blas": blas_info(), "session_threads": _jsonable(threads)}

    def calibrate(self, warmup, sample_seconds, max_calls=10000):
        """Warm up, then pick the number of calls a sample makes."""
        from benchmarks import timing

        self.calls = timing.calibrate(self.prepared.step, warmup, sample_seconds, max_calls)
        return {"calls": self.calls}

    def sample(self):
        """Seconds per call over one sample."""
        from benchmarks import timing

        return {"seconds": timing.sample(self.prepared.step, self.calls), "calls": self.calls}

    def profile(self, runs=3):
        """`runs` FULL_TRACE runs of the step, per op type the median of their total times (one traced
        run alone is at the mercy of a moment's load)."""
        ready = self.prepared
        if ready.sess is None:
            return {"rows": None}
        import statistics

        from course.profile import node_times, op_table

        tf = self.module
        tables, nodes = [], []
        for _ in range(runs):
            metadata = tf.RunMetadata()
            ready.sess.run(ready.fetches, ready.feed, run_metadata=metadata,
                           options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE))
            tables.append({r.op_type: r for r in op_table(metadata, graph=ready.sess.graph)})
            nodes.append({n.name: n for n in node_times(metadata, graph=ready.sess.graph)})
        types = {op_type: row.count for table in tables for op_type, row in table.items()}
        medians = {op_type: statistics.median(t[op_type].total_ms if op_type in t else 0.0 for t in tables)
                   for op_type in types}
        total = sum(medians.values()) or 1.0
        rows = [{"op_type": op_type, "count": types[op_type], "total_ms": round(ms, 3),
                 "share": round(ms / total, 4)}
                for op_type, ms in sorted(medians.items(), key=lambda item: -item[1])]
        # The slowest single ops (median over the runs): which convolution, which gradient.
        node_ms = {name: statistics.median(run[name].micros / 1000 if name in run else 0.0 for run in nodes)
                   for name in {name for run in nodes for name in run}}
        op_types = {name: node.op_type for run in nodes for name, node in run.items()}
        slowest = [{"node": name, "op_type": op_types[name], "ms": round(ms, 3)}
                   for name, ms in sorted(node_ms.items(), key=lambda item: -item[1])[:8]]
        return {"rows": rows, "nodes": slowest, "runs": runs}

    def close(self):
        """Close the workload's session and collect garbage."""
        if self.prepared is not None:
            self.prepared.close()
            self.prepared = None
        import gc

        gc.collect()
        return {"ok": True}


def main(argv=None):
    """Join the --cgroup, import the engine, then answer requests from stdin until "exit"."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", required=True)
    parser.add_argument("--cgroup", help="join this cgroup directory first (the quota condition)")
    args = parser.parse_args(argv)
    # Replies go to the original stdout; anything printed (by Python or C code) goes to stderr.
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    try:
        if args.cgroup:
            join_cgroup(args.cgroup)  # before NumPy and the engine are imported
        worker = Worker(args.engine)
    except Exception as error:
        _reply(channel, {"error": f"{type(error).__name__}: {error}"})
        return 1
    _reply(channel, {"ok": True, "pid": os.getpid(), "cgroup": _proc_cgroup(), "blas": blas_info(),
                     "environment": {name: os.environ.get(name) for name in REPORTED_VARIABLES}})
    for line in sys.stdin:
        request = json.loads(line)
        cmd = request.pop("cmd")
        if cmd == "exit":
            break
        try:
            _reply(channel, getattr(worker, cmd)(**request))
        except Exception as error:
            traceback.print_exc()
            _reply(channel, {"error": f"{type(error).__name__}: {error}"})
    worker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
