"""`make bench`: tfcore against TensorFlow 1 graph mode (and PyTorch where installed), in one run.

    python -m benchmarks.run                  # the default set, all three conditions (several minutes)
    python -m benchmarks.run --quick          # fewer repeats, no subprocess or memory workloads
    python -m benchmarks.run --only lenet_train,tiny_run --repeats 9
    python -m benchmarks.run --conditions quiet,quota   # not the competing process
    python -m benchmarks.run --full-lesson    # also lesson 05's full MNIST training, on each engine
    python -m benchmarks.run --big            # also the peak memory of a 512x512 VGG19 style iteration
    python -m benchmarks.run --gpu            # then the GPU section (benchmarks/gpu.py; skipped, saying
                                              # why, where tfcore cannot use a GPU)

The timed workloads run in three conditions (`benchmarks.conditions`): quiet, with one competing
CPU-bound process, and under a one-CPU quota. Prints a table, writes it as JSON (`--out`, default
benchmarks/results/latest.json) and, for a full default run, puts it into benchmarks/README.md between
the markers. See benchmarks/README.md for what each workload does and how it is measured.
"""

import argparse
import json
import os
import signal
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import conditions, engines, goals, report, timing
from benchmarks.timed import PAUSE_SECONDS, SCALE, WorkerSet, available_engines, run_timed
from benchmarks.workers import BLAS_OVERRIDES, child_environment, run_child

__all__ = ["BY_NAME", "PAUSE_SECONDS", "SCALE", "WORKLOADS", "child_environment", "main"]  # compare_trees

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
DEFAULT_OUT = BENCH_DIR / "results" / "latest.json"
README = BENCH_DIR / "README.md"
SCHEMA = 2
ALL = {"quiet": 1.0, "competing": 1.0, "quota": 1.0}


@dataclass
class Workload:
    """One row of the table: what it measures, its unit and goals, how it runs."""

    name: str
    title: str
    unit: str  # "ms", "us", "s" or "MiB": the unit of every engine's value
    goals: dict  # {condition: the largest ratio tfcore/TF that meets the goal there}
    kind: str  # "timed" (worker processes), "import", "lenet_memory", "style_memory", "lesson" (one-off)
    repeats: int = 5
    optin: str | None = None  # "full_lesson" or "big": only with that option (or --only)
    engines: tuple = field(default=engines.ENGINES)


WORKLOADS = [
    Workload("mlp_step", "MLP 784-500-10, one SGD training step", "ms", {"quiet": 0.9}, "timed", repeats=7),
    Workload("lenet_train", "LeNet-5, one training step (Adam, dropout, L2)", "ms", {**ALL, "quiet": 0.9},
             "timed", repeats=5),
    Workload("lenet_infer", "LeNet-5, inference", "ms", ALL, "timed", repeats=7),
    Workload("tiny_run", "session.run of placeholder * 2 + 1", "us", {"quiet": 0.2}, "timed", repeats=7),
    Workload("import_time", "import the engine (fresh process)", "s", {"quiet": 0.2}, "import", repeats=5),
    Workload("import_memory", "resident memory after import", "MiB", {}, "import", repeats=5),
    Workload("lenet_peak_memory", "peak memory, 50 LeNet-5 training steps (above baseline)", "MiB",
             {"quiet": 0.6}, "lenet_memory", repeats=1),
    Workload("style_256", "neural style, one iteration (VGG19 to conv5_1, 256x256, Adam)", "ms",
             {"quiet": 1.2}, "timed", repeats=3),
    Workload("mnist_lesson", "lesson 05 MNIST training, full (10,000 steps)", "s", {}, "lesson",
             repeats=1, optin="full_lesson", engines=("tfcore", "tensorflow")),
    Workload("style_512_memory", "peak memory, 512x512 neural-style iteration (whole process)", "MiB",
             {}, "style_memory", repeats=1, optin="big"),
]
BY_NAME = {w.name: w for w in WORKLOADS}


class Context:
    """What the runners share: the options, the worker sets of the conditions and what they record."""

    def __init__(self, args):
        self.args = args
        self.engines = args.engines
        self.quick = args.quick
        self.conditions = args.conditions
        self.profiles, self.slowest_nodes = {}, {}
        self.import_cache = None
        self.competing_log = []  # one entry per competing process: pid, CPU and wall seconds, status
        self.quota = conditions.CpuQuota() if "quota" in self.conditions else None
        self.worker_record = {"quiet": {}, "quota": {}}
        record = self.worker_record
        self.worker_sets = {"quiet": WorkerSet("quiet", args.threads, record["quiet"]),
                            "quota": WorkerSet("quota", args.threads, record["quota"], self.quota)}

    def repeats(self, workload):
        """Samples per engine and condition: --repeats, else the workload's (at most 3 with --quick)."""
        if self.args.repeats:
            return self.args.repeats
        return min(workload.repeats, 3) if self.quick else workload.repeats

    def log(self, message):
        """A progress line on stderr."""
        print(message, file=sys.stderr, flush=True)

    def condition_record(self):
        """The JSON's "conditions": what each selected condition did."""
        out = {}
        for name in self.conditions:
            out[name] = {"description": conditions.DESCRIPTIONS[name]}
        if "competing" in out:
            out["competing"]["processes"] = self.competing_log
        if "quota" in out:
            if self.quota.reason is not None:
                out["quota"]["skipped"] = self.quota.reason
            else:
                out["quota"].update(mechanism=self.quota.describe(), cgroups=self.quota.made)
        return out

    def shutdown(self):
        """Stop every worker (and remove the quota cgroups)."""
        for worker_set in self.worker_sets.values():
            worker_set.shutdown()


def run_import(workload, ctx):
    """import_time and import_memory share their subprocesses: measured once, read by both rows."""
    if ctx.import_cache is None:
        chosen = available_engines(workload, ctx)
        runs = {e: [] for e, why in chosen.items() if why is None}
        errors = {}
        for _ in range(ctx.repeats(workload)):
            for engine in runs:
                if engine in errors:
                    continue
                result = run_child("import", engine, threads=ctx.args.threads, timeout=600)
                if "error" in result:
                    errors[engine] = result
                else:
                    runs[engine].append(result)
        ctx.import_cache = (chosen, runs, errors)
    chosen, runs, errors = ctx.import_cache
    results = {}
    for engine, why in chosen.items():
        if why is not None:
            results[engine] = why
        elif engine in errors:
            results[engine] = errors[engine]
        else:
            key = "seconds" if workload.name == "import_time" else "rss_after_mib"
            values = [r[key] for r in runs[engine]]
            results[engine] = {"value": statistics.median(values), "min": min(values), "samples": values}
            if workload.name == "import_memory":
                before = [r["rss_before_mib"] for r in runs[engine]]
                results[engine]["interpreter_mib"] = statistics.median(before)
    return {"quiet": results}


def run_subprocess(workload, ctx):
    """A one-off measurement in a fresh process per engine (quiet condition only)."""
    results = {}
    threads = ctx.args.threads
    for engine, why in available_engines(workload, ctx).items():
        if why is not None:
            results[engine] = why
            continue
        ctx.log(f"  {workload.name}: {engine} ...")
        if workload.kind == "lenet_memory":
            r = run_child("lenet-memory", engine, "--steps", "50", threads=threads, timeout=1800)
            value_key = "delta_mib"
        elif workload.kind == "style_memory":
            r = run_child("style-memory", engine, "--size", "512", "--steps", "2", threads=threads,
                          timeout=3600)
            value_key = "peak_mib"
        else:
            r = run_child("lesson05", engine, "--steps", str(ctx.args.lesson_steps), threads=threads,
                          timeout=4 * 3600)
            value_key = "seconds"
        results[engine] = r if "error" in r else {"value": r[value_key], **r}
    return {"quiet": results}


RUNNERS = {"timed": run_timed, "import": run_import, "lenet_memory": run_subprocess,
           "style_memory": run_subprocess, "lesson": run_subprocess}


def selected_workloads(args):
    """The workloads of this run, in table order (--only, --quick, the opt-ins, --conditions)."""
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in BY_NAME]
        if unknown:
            raise SystemExit(f"unknown workload(s) {unknown}; choose from {list(BY_NAME)}")
        chosen = [BY_NAME[n] for n in names]
    else:
        chosen = [w for w in WORKLOADS
                  if not (w.optin == "full_lesson" and not args.full_lesson)
                  and not (w.optin == "big" and not args.big)
                  and not (args.quick and w.kind != "timed")]  # quick: no subprocesses, no memory
    # The one-off workloads are measured in the quiet condition only.
    return [w for w in chosen if w.kind == "timed" or "quiet" in args.conditions]


def title_for(workload, args):
    """The workload's title (the lesson's with its step count where --lesson-steps changes it)."""
    if workload.name == "mnist_lesson" and args.lesson_steps != 10000:
        return f"lesson 05 MNIST training, {args.lesson_steps:,} steps (full run: 10,000)"
    return workload.title


def parse_args(argv=None):
    """The options (see --help); --engines and --conditions become tuples."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--quick", action="store_true",
        help="fewer repeats and shorter samples; skips the subprocess and memory workloads")
    add("--only", metavar="NAME[,NAME]", help=f"run only these workloads: {', '.join(BY_NAME)}")
    add("--conditions", default=",".join(conditions.CONDITIONS), metavar="NAME[,NAME]",
        help="conditions of the timed workloads (default %(default)s)")
    add("--repeats", type=int, metavar="N",
        help="timed samples per engine and condition (default per workload)")
    add("--out", type=Path, default=DEFAULT_OUT, help="the JSON file (default %(default)s)")
    add("--engines", default=",".join(engines.ENGINES),
        help="comma-separated engines to run (default %(default)s)")
    add("--threads", type=int, metavar="N",
        help="give every engine N threads (default: each engine's own default)")
    add("--full-lesson", action="store_true",
        help="also time lesson 05's full MNIST training on tfcore and TensorFlow (long)")
    add("--lesson-steps", type=int, default=10000, metavar="N",
        help="training steps for --full-lesson (default %(default)s, the lesson's full run)")
    add("--big", action="store_true", help="also measure the peak memory of a 512x512 VGG19 style iteration")
    add("--gpu", action="store_true",
        help="then the GPU section: tfcore-GPU, TF-GPU, tfcore-CPU (benchmarks/gpu.py)")
    add("--no-profile", dest="profile", action="store_false",
        help="skip the FULL_TRACE profiles of the LeNet-5 step and the style iteration")
    add("--no-readme", dest="readme", action="store_false",
        help="do not write the table into benchmarks/README.md")
    args = parser.parse_args(argv)
    args.engines = tuple(e.strip() for e in args.engines.split(",") if e.strip())
    unknown = set(args.engines) - set(engines.ENGINES)
    if unknown or "tfcore" not in args.engines:
        parser.error(f"--engines must include tfcore and name only {engines.ENGINES}")
    try:
        args.conditions = conditions.parse_conditions(args.conditions)
    except ValueError as error:
        parser.error(f"--conditions: {error}")
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    if args.quick:
        args.profile = False
    # Only a full default run (default JSON file and conditions, no --quick or --only) rewrites the README.
    args.readme = (args.readme and not args.quick and not args.only and args.out.resolve() == DEFAULT_OUT
                   and args.conditions == conditions.CONDITIONS)
    return args


def _terminate(signum, frame):
    raise SystemExit(128 + signum)  # run the finally blocks: the competing process, workers, cgroups


def measure(args, ctx):
    """The rows of the table, one per selected workload; every worker stopped afterwards."""
    rows = []
    try:
        for workload in selected_workloads(args):
            ctx.log(f"{workload.name}: {workload.title} ...")
            t0 = time.time()
            by_condition = RUNNERS[workload.kind](workload, ctx)
            rows.append(goals.evaluate(workload, by_condition, title_for(workload, args)))
            ctx.log(f"{workload.name}: done in {time.time() - t0:.0f} s")
    finally:
        ctx.shutdown()
    return rows


def build_report(args, argv, ctx, rows, started, load_start, machine):
    """The JSON document of the run (schema 2)."""
    settings = {
        "command": " ".join(["python -m benchmarks.run", *(argv if argv is not None else sys.argv[1:])]),
        "quick": args.quick, "repeats": args.repeats, "threads": args.threads, "engines": list(args.engines),
        "conditions": list(args.conditions), "environment": dict(engines.TF_ENV),
        "blas_overrides_removed": {name: os.environ[name] for name in BLAS_OVERRIDES if name in os.environ},
        "load_start": load_start, "load_end": timing.load_average(), "seconds": time.time() - started,
    }
    return {"schema": SCHEMA, "machine": machine, "settings": settings, "conditions": ctx.condition_record(),
            "workers": ctx.worker_record, "workloads": rows, "profiles": ctx.profiles,
            "slowest_nodes": ctx.slowest_nodes}


def main(argv=None):
    """Run the benchmark: measure, print the table, write the JSON (and the README for a full run)."""
    args = parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        ctx = Context(args)
        started, load_start, machine = time.time(), timing.load_average(), timing.machine_info()
        rows = measure(args, ctx)
    finally:
        signal.signal(signal.SIGTERM, previous)
    gpu_section = None
    if args.gpu:
        from benchmarks import gpu
        gpu_section = gpu.run_section(quick=args.quick, log=ctx.log)
    document = build_report(args, argv, ctx, rows, started, load_start, machine)
    if gpu_section is not None:
        document["gpu"] = gpu_section
    report.print_report(document)
    if gpu_section is not None:
        from benchmarks import gpu
        print()
        print(gpu.section_text(gpu_section))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    if args.readme:
        report.update_readme(document, README)
        print(f"wrote the table into {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
