"""The timed workloads in the three conditions (`benchmarks.conditions`).

The quiet and the competing condition share one worker per engine (started once per run); the quota
condition has its own workers, each in its own one-CPU cgroup. Per workload and worker set: each
engine's worker builds the workload, runs its first step, warms up and calibrates (in the quiet
condition for the shared workers, under the quota for the quota workers); then the samples are taken
in turns A B A B, quiet first, then with the competing process running, then under the quota.
"""

import time

from benchmarks import conditions, engines, timing
from benchmarks.workers import WorkerProcess

PROFILED = ("lenet_train", "style_256")
PAUSE_SECONDS = 0.2  # before each sample: idle BLAS/OpenMP threads of the engine before stop spinning
SCALE = {"ms": 1e3, "us": 1e6, "s": 1.0, "MiB": 1.0}


class SampleError(Exception):
    """A worker failed while sampling."""


def available_engines(workload, ctx):
    """{engine: None (run it) or a result dict saying why not}."""
    chosen = {}
    for engine in workload.engines:
        if engine not in ctx.engines:
            chosen[engine] = {"na": "not selected (--engines)"}
        elif not engines.available(engine):
            chosen[engine] = {"na": f"{engine} is not installed"}
        else:
            chosen[engine] = None
    return chosen


class WorkerSet:
    """The worker processes of one condition set ("quiet": quiet and competing; "quota": each worker
    in a cgroup of `quota`, a `conditions.CpuQuota`), one per engine, kept for the run. `record` gets,
    per engine, what the worker reported (pid, cgroup, environment, BLAS after import and after each
    workload's first step)."""

    def __init__(self, name, threads, record, quota=None):
        self.name, self.threads, self.record, self.quota = name, threads, record, quota
        self._workers = {}

    def _start(self, engine):
        cgroup = self.quota.create(engine) if self.quota is not None else None
        self._workers[engine] = WorkerProcess(engine, self.threads, cgroup)

    def _note_ready(self, engine, status):
        worker = self._workers[engine]
        info = {key: status.get(key) for key in ("pid", "cgroup", "environment", "blas", "error")
                if key in status}
        info["blas_after_import"] = info.pop("blas", None)
        if worker.cgroup is not None:
            info["cgroup_dir"] = str(worker.cgroup)
            info["in_cgroup"] = bool(status.get("cgroup")) and self.quota.contains(status["cgroup"],
                                                                                  worker.cgroup)
        info["after_first_step"] = self.record.get(engine, {}).get("after_first_step", {})
        self.record[engine] = info

    def workers(self, workload, ctx):
        """{engine: a ready WorkerProcess, or a result dict saying why the engine has no value}."""
        chosen = available_engines(workload, ctx)
        for engine, why in chosen.items():  # start them all first: they import in parallel
            if why is None and not (engine in self._workers and self._workers[engine].alive()):
                if engine in self._workers:
                    self._stop(engine)
                try:
                    self._start(engine)
                except OSError as error:
                    chosen[engine] = {"error": f"cannot make its cgroup: {error.strerror or error}"}
        for engine, why in chosen.items():
            if why is None:
                status = self._workers[engine].wait_ready()
                self._note_ready(engine, status)
                chosen[engine] = self._workers[engine] if "error" not in status else status
        return chosen

    def note_setup(self, engine, workload, reply):
        """Keep what BLAS ran (and the session's threads) after `workload`'s first step."""
        steps = self.record.setdefault(engine, {}).setdefault("after_first_step", {})
        steps[workload] = {"blas": reply.get("blas"), "session_threads": reply.get("session_threads")}

    def _stop(self, engine):
        worker = self._workers.pop(engine)
        worker.stop()
        if worker.cgroup is not None:
            self.quota.remove(worker.cgroup)  # after the worker exited: the cgroup is empty

    def shutdown(self):
        """Stop every worker and remove its cgroup."""
        for engine in list(self._workers):
            self._stop(engine)


def _prepare(worker_set, workload, ctx):
    """Set up and calibrate `workload` on the set's workers: (the live workers, {engine: base cell})."""
    results, live = {}, {}
    for engine, worker in worker_set.workers(workload, ctx).items():
        if isinstance(worker, dict):
            results[engine] = worker
            continue
        reply = worker.request("setup", workload=workload.name)
        if "error" not in reply:
            worker_set.note_setup(engine, workload.name, reply)
            reply = worker.request("calibrate", warmup=1 if ctx.quick else 2,
                                   sample_seconds=0.05 if ctx.quick else 0.25)
        if "error" in reply:
            results[engine] = reply
        else:
            results[engine], live[engine] = {"calls_per_sample": reply["calls"]}, worker
    return live, results


def _sample(live, base, workload, ctx):
    """The interleaved samples of the live workers: {engine: cell} (copies of `base`, with values)."""
    results = {engine: dict(cell) for engine, cell in base.items()}

    def sampler(worker):
        def take():
            reply = worker.request("sample")
            if "error" in reply:
                raise SampleError(f"{worker.engine}: {reply['error']}")
            return reply["seconds"]
        return take

    if live:
        try:
            stats = timing.interleave({e: sampler(w) for e, w in live.items()}, ctx.repeats(workload),
                                      pause=0.05 if ctx.quick else PAUSE_SECONDS)
        except SampleError as error:
            return {engine: ({"error": str(error)} if engine in live else results[engine])
                    for engine in workload.engines}
        scale = SCALE[workload.unit]
        for engine, s in stats.items():
            results[engine].update(value=s["median"] * scale, min=s["min"] * scale,
                                   samples=[v * scale for v in s["samples"]])
    return {engine: results[engine] for engine in workload.engines}


def _profile(live, workload, ctx):
    """FULL_TRACE profiles of the step on tfcore and TensorFlow (quiet condition)."""
    profiles = {}
    for engine in ("tfcore", "tensorflow"):
        if engine in live:
            time.sleep(PAUSE_SECONDS)  # as before a sample: let the previous engine's threads settle
            reply = live[engine].request("profile")
            if reply.get("rows"):
                profiles[engine] = reply["rows"]
                ctx.slowest_nodes.setdefault(workload.name, {})[engine] = reply["nodes"]
    ctx.profiles[workload.name] = profiles


def _close(live):
    for worker in live.values():
        worker.request("close")


def _shared_conditions(workload, ctx):
    """The quiet and the competing condition, on the shared workers."""
    live, base = _prepare(ctx.worker_sets["quiet"], workload, ctx)
    out = {}
    try:
        if "quiet" in ctx.conditions:
            out["quiet"] = _sample(live, base, workload, ctx)
            if ctx.args.profile and workload.name in PROFILED:
                _profile(live, workload, ctx)
        if "competing" in ctx.conditions:
            with conditions.competing_load(ctx.competing_log, workload.name):
                out["competing"] = _sample(live, base, workload, ctx)
    finally:
        _close(live)
    return out


def _quota_condition(workload, ctx):
    """The quota condition, on the quota workers (or every cell skipped, saying why)."""
    if ctx.quota.reason is not None:
        return {engine: {"skipped": ctx.quota.reason} for engine in workload.engines}
    live, base = _prepare(ctx.worker_sets["quota"], workload, ctx)
    try:
        return _sample(live, base, workload, ctx)
    finally:
        _close(live)


def run_timed(workload, ctx):
    """{condition: {engine: cell}} of a timed workload, for the conditions of the run."""
    out = {}
    if "quiet" in ctx.conditions or "competing" in ctx.conditions:
        out.update(_shared_conditions(workload, ctx))
    if "quota" in ctx.conditions:
        out["quota"] = _quota_condition(workload, ctx)
    return out
