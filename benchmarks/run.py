"""`make bench`: tfcore against TensorFlow 1 graph mode (and PyTorch where installed), in one run.

    python -m benchmarks.run                  # the default set (a few minutes)
    python -m benchmarks.run --quick          # fewer repeats, no subprocess or memory workloads
    python -m benchmarks.run --only lenet_train,tiny_run --repeats 9
    python -m benchmarks.run --full-lesson    # also lesson 05's full MNIST training, on each engine
    python -m benchmarks.run --big            # also the peak memory of a 512x512 VGG19 style iteration
    python -m benchmarks.run --gpu            # then the GPU section (benchmarks/gpu.py; skipped, saying
                                              # why, where tfcore cannot use a GPU)

Prints a table, writes it as JSON (`--out`, default benchmarks/results/latest.json) and, for a full
default run, puts it into benchmarks/README.md between the markers. See benchmarks/README.md for what
each workload does and how it is measured.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import engines, timing
from benchmarks.child import run_for_result

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
DEFAULT_OUT = BENCH_DIR / "results" / "latest.json"
README = BENCH_DIR / "README.md"
README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"
SCHEMA = 1
BIG_LIMIT_MIB = 4096  # "a VGG19 style iteration at 512x512 must fit in 4 GiB"


@dataclass
class Workload:
    name: str
    title: str
    unit: str  # "ms", "us", "s" or "MiB": the unit of every engine's value
    goal: float | None  # the largest ratio tfcore/TF that meets the goal (None: no goal)
    kind: str  # "timed" (worker processes), "import", "lenet_memory", "style_memory", "lesson" (one-off)
    repeats: int = 5
    optin: str | None = None  # "full_lesson" or "big": only with that option (or --only)
    engines: tuple = engines.ENGINES


WORKLOADS = [
    Workload("mlp_step", "MLP 784-500-10, one SGD training step", "ms", 0.9, "timed", repeats=7),
    Workload("lenet_train", "LeNet-5, one training step (Adam, dropout, L2)", "ms", 0.9, "timed", repeats=5),
    Workload("lenet_infer", "LeNet-5, inference", "ms", 1.0, "timed", repeats=7),
    Workload("tiny_run", "session.run of placeholder * 2 + 1", "us", 0.2, "timed", repeats=7),
    Workload("import_time", "import the engine (fresh process)", "s", 0.2, "import", repeats=5),
    Workload("import_memory", "resident memory after import", "MiB", None, "import", repeats=5),
    Workload("lenet_peak_memory", "peak memory, 50 LeNet-5 training steps (above baseline)", "MiB", 0.6,
             "lenet_memory", repeats=1),
    Workload("style_256", "neural style, one iteration (VGG19 to conv5_1, 256x256, Adam)", "ms", 1.2,
             "timed", repeats=3),
    Workload("mnist_lesson", "lesson 05 MNIST training, full (10,000 steps)", "s", None, "lesson",
             repeats=1, optin="full_lesson", engines=("tfcore", "tensorflow")),
    Workload("style_512_memory", "peak memory, 512x512 neural-style iteration (whole process)", "MiB",
             None, "style_memory", repeats=1, optin="big"),
]
BY_NAME = {w.name: w for w in WORKLOADS}
SCALE = {"ms": 1e3, "us": 1e6, "s": 1.0, "MiB": 1.0}


# --- running -------------------------------------------------------------------------------------


class WorkerProcess:
    """A `benchmarks.worker` process running one engine; `request` sends a command and returns the reply."""

    def __init__(self, engine, threads=None):
        self.engine = engine
        self.log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        command = [sys.executable, "-m", "benchmarks.worker", "--engine", engine]
        self.proc = subprocess.Popen(command, cwd=ROOT, env=child_environment(threads), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True, encoding="utf-8")
        self.status = None  # the first reply: did the engine import?

    def wait_ready(self):
        if self.status is None:
            self.status = self._read()
        return self.status

    def alive(self):
        return self.proc.poll() is None and "error" not in (self.status or {})

    def request(self, cmd, **arguments):
        try:
            self.proc.stdin.write(json.dumps({"cmd": cmd, **arguments}) + "\n")
            self.proc.stdin.flush()
        except OSError:
            pass  # a dead worker: _read reports it
        return self._read()

    def _read(self):
        line = self.proc.stdout.readline()
        if line:
            return json.loads(line)
        self.proc.wait()
        self.log.seek(0)
        tail = " | ".join(self.log.read().strip().splitlines()[-3:])
        return {"error": f"the {self.engine} worker exited (status {self.proc.returncode}): {tail}"}

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"cmd": "exit"}) + "\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Context:
    def __init__(self, args):
        self.args = args
        self.engines = args.engines
        self.quick = args.quick
        self.profiles = {}
        self.slowest_nodes = {}
        self.import_cache = None
        self._workers = {}

    def repeats(self, workload):
        if self.args.repeats:
            return self.args.repeats
        return min(workload.repeats, 3) if self.quick else workload.repeats

    def log(self, message):
        print(message, file=sys.stderr, flush=True)

    def workers(self, workload):
        """{engine: a ready WorkerProcess, or a result dict saying why the engine has no value}."""
        chosen = _available_engines(workload, self)
        for engine, why in chosen.items():  # start them all first: they import in parallel
            if why is None and not (engine in self._workers and self._workers[engine].alive()):
                if engine in self._workers:
                    self._workers.pop(engine).stop()
                self._workers[engine] = WorkerProcess(engine, self.args.threads)
        for engine, why in chosen.items():
            if why is None:
                status = self._workers[engine].wait_ready()
                chosen[engine] = self._workers[engine] if "error" not in status else status
        return chosen

    def shutdown(self):
        for worker in self._workers.values():
            worker.stop()
        self._workers = {}


class SampleError(Exception):
    pass


def run_timed(workload, ctx):
    results, live = {}, {}
    for engine, worker in ctx.workers(workload).items():
        if isinstance(worker, dict):
            results[engine] = worker
            continue
        reply = worker.request("setup", workload=workload.name)
        if "error" not in reply:
            reply = worker.request("calibrate", warmup=1 if ctx.quick else 2,
                                   sample_seconds=0.05 if ctx.quick else 0.25)
        if "error" in reply:
            results[engine] = reply
        else:
            results[engine], live[engine] = {"calls_per_sample": reply["calls"]}, worker
    try:
        if live:
            def sampler(worker):
                def take():
                    reply = worker.request("sample")
                    if "error" in reply:
                        raise SampleError(f"{worker.engine}: {reply['error']}")
                    return reply["seconds"]
                return take

            try:
                stats = timing.interleave({e: sampler(w) for e, w in live.items()}, ctx.repeats(workload),
                                          pause=0.05 if ctx.quick else PAUSE_SECONDS)
            except SampleError as error:
                for engine in live:
                    results[engine] = {"error": str(error)}
                return results
            scale = SCALE[workload.unit]
            for engine, s in stats.items():
                results[engine].update(value=s["median"] * scale, min=s["min"] * scale,
                                       samples=[v * scale for v in s["samples"]])
        if ctx.args.profile and workload.name in PROFILED:
            profiles = {}
            for engine in ("tfcore", "tensorflow"):
                if engine in live:
                    time.sleep(PAUSE_SECONDS)  # as before a sample: let the previous engine's threads settle
                    reply = live[engine].request("profile")
                    if reply.get("rows"):
                        profiles[engine] = reply["rows"]
                        ctx.slowest_nodes.setdefault(workload.name, {})[engine] = reply["nodes"]
            ctx.profiles[workload.name] = profiles
    finally:
        for worker in live.values():
            worker.request("close")
    return {engine: results[engine] for engine in workload.engines}


PROFILED = ("lenet_train", "style_256")
PAUSE_SECONDS = 0.2  # before each sample: idle BLAS/OpenMP threads of the engine before stop spinning


def child_environment(threads=None):
    """The environment of the worker and child processes: TensorFlow's settings, --threads, the repo."""
    env = dict(os.environ)
    engines.set_tf_environment(env)
    if threads is not None:
        env.update(engines.thread_environment(threads))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _child(kind, engine, *extra, threads=None, timeout=None):
    env = child_environment(threads)
    command = [sys.executable, "-m", "benchmarks.child", kind, "--engine", engine, *extra]
    return run_for_result(command, env, ROOT, timeout)


def _available_engines(workload, ctx):
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


def run_import(workload, ctx):
    """import_time and import_memory share their subprocesses: measured once, read by both rows."""
    if ctx.import_cache is None:
        chosen = _available_engines(workload, ctx)
        runs = {e: [] for e, why in chosen.items() if why is None}
        errors = {}
        for _ in range(ctx.repeats(workload)):
            for engine in runs:
                if engine in errors:
                    continue
                result = _child("import", engine, threads=ctx.args.threads, timeout=600)
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
    return results


def run_subprocess(workload, ctx):
    results = {}
    for engine, why in _available_engines(workload, ctx).items():
        if why is not None:
            results[engine] = why
            continue
        ctx.log(f"  {workload.name}: {engine} ...")
        if workload.kind == "lenet_memory":
            r = _child("lenet-memory", engine, "--steps", "50", threads=ctx.args.threads, timeout=1800)
            value_key = "delta_mib"
        elif workload.kind == "style_memory":
            r = _child("style-memory", engine, "--size", "512", "--steps", "2", threads=ctx.args.threads,
                       timeout=3600)
            value_key = "peak_mib"
        else:
            r = _child("lesson05", engine, "--steps", str(ctx.args.lesson_steps), threads=ctx.args.threads,
                       timeout=4 * 3600)
            value_key = "seconds"
        results[engine] = r if "error" in r else {"value": r[value_key], **r}
    return results


RUNNERS = {"timed": run_timed, "import": run_import, "lenet_memory": run_subprocess,
           "style_memory": run_subprocess, "lesson": run_subprocess}


def selected_workloads(args):
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in BY_NAME]
        if unknown:
            raise SystemExit(f"unknown workload(s) {unknown}; choose from {list(BY_NAME)}")
        return [BY_NAME[n] for n in names]
    chosen = []
    for w in WORKLOADS:
        if w.optin == "full_lesson" and not args.full_lesson:
            continue
        if w.optin == "big" and not args.big:
            continue
        if args.quick and w.kind != "timed":
            continue  # quick: no subprocesses, no memory measurements
        chosen.append(w)
    return chosen


def _goal(workload):
    if workload.name == "style_512_memory":
        return {"kind": "tfcore_at_most", "value": BIG_LIMIT_MIB, "unit": "MiB",
                "text": f"tfcore <= {BIG_LIMIT_MIB // 1024} GiB"}
    if workload.goal is None:
        return None
    return {"kind": "ratio_at_most", "value": workload.goal, "text": f"<= {workload.goal:.1f}"}


def title_for(workload, args):
    if workload.name == "mnist_lesson" and args.lesson_steps != 10000:
        return f"lesson 05 MNIST training, {args.lesson_steps:,} steps (full run: 10,000)"
    return workload.title


def evaluate(workload, results, title=None):
    """The row: ratio tfcore/TF and whether the goal is met (None where it cannot be said)."""
    a, b = results.get("tfcore", {}).get("value"), results.get("tensorflow", {}).get("value")
    ratio = a / b if a is not None and b else None
    goal = _goal(workload)
    met = None
    if goal and goal["kind"] == "ratio_at_most" and ratio is not None:
        met = ratio <= goal["value"]
    elif goal and goal["kind"] == "tfcore_at_most" and a is not None:
        met = a <= goal["value"]
    return {"name": workload.name, "title": title or workload.title, "unit": workload.unit,
            "results": results, "ratio": ratio, "goal": goal, "goal_met": met}


# --- output --------------------------------------------------------------------------------------


def fmt_value(cell):
    if cell is None:
        return "n/a"
    if "value" in cell:
        v = cell["value"]
        if v >= 100:
            return f"{v:,.0f}"
        if v >= 10:
            return f"{v:.1f}"
        return f"{v:.2f}" if v >= 1 else f"{v:.3f}"
    return "error" if "error" in cell else "n/a"


def table_rows(rows):
    header = ["workload", "unit", "tfcore", "TensorFlow", "PyTorch", "tfcore/TF", "goal", "met"]
    body = []
    for row in rows:
        r = row["results"]
        met = {True: "met", False: "not met", None: "-"}[row["goal_met"]]
        body.append([row["title"], row["unit"], fmt_value(r.get("tfcore")), fmt_value(r.get("tensorflow")),
                     fmt_value(r.get("torch")), f"{row['ratio']:.2f}" if row["ratio"] is not None else "n/a",
                     row["goal"]["text"] if row["goal"] else "-", met])
    return header, body


def text_table(rows):
    header, body = table_rows(rows)
    widths = [max(len(str(line[i])) for line in [header, *body]) for i in range(len(header))]
    numeric = set(range(2, 6))

    def line(cells):
        return "  ".join(str(c).rjust(w) if i in numeric else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [line(header), "-" * (sum(widths) + 2 * (len(widths) - 1))]
    out += [line(b) for b in body]
    return "\n".join(out)


def markdown_table(rows):
    header, body = table_rows(rows)
    align = ["---", "---", "---:", "---:", "---:", "---:", "---", "---"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(str(c) for c in b) + " |" for b in body]
    return "\n".join(lines)


def errors_text(rows):
    lines = []
    for row in rows:
        for engine, cell in row["results"].items():
            if cell and "error" in cell:
                lines.append(f"{row['name']} on {engine}: {cell['error']}")
    return lines


def profile_text(profiles, top=8, markdown=False):
    lines = []
    for workload, by_engine in profiles.items():
        for engine, rows in by_engine.items():
            total = sum(r["total_ms"] for r in rows)
            title = f"{BY_NAME[workload].title}, {engines.LABELS[engine]}: {total:.1f} ms in ops"
            parts = ", ".join(f"{r['op_type']} {r['total_ms']:.1f} ms ({100 * r['share']:.0f}%)"
                              for r in rows[:top])
            lines.append(f"- {title}: {parts}" if markdown else f"{title}\n    {parts}")
    return lines


def machine_lines(machine, settings):
    m = machine
    threads = settings.get("threads")
    threads = f"{threads} per engine (--threads)" if threads else "each engine's default"
    return [
        f"- CPU: {m['cpu_model']}, {m['cores']} cores; RAM {m['ram_gib']} GiB; {m['platform']}",
        f"- Python {m['python']}; NumPy {m['numpy']} ({m['numpy_blas'] or 'BLAS unknown'}); "
        f"TensorFlow {m['tensorflow'] or 'not installed'}; PyTorch {m['torch'] or 'not installed'}; "
        f"tf-course {m['tfcore']}",
        f"- Date: {m['date']}; load average (1, 5, 15 min) at start {settings['load_start']}, "
        f"at end {settings['load_end']}; run took {settings['seconds']:.0f} s",
        f"- Command: `{settings['command']}`; TensorFlow with TF_ENABLE_ONEDNN_OPTS=1; threads: {threads}",
    ]


def load_note(settings, machine):
    """A warning when other processes kept the CPU busy during the run (None when it was quiet)."""
    loads = [load[0] for load in (settings["load_start"], settings["load_end"]) if load]
    cores = machine["cores"] or 1
    if loads and max(loads) > 0.5 * cores:
        return (f"note: the machine was busy (1-minute load average {', '.join(map(str, loads))} on {cores} "
                "cores, at the start and end): other processes competed for the CPU, and multi-threaded "
                "kernels suffer most from that; the timings and ratios move with the load.")
    return None


def update_readme(report, path=README):
    text = path.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        raise SystemExit(f"{path} lacks the markers {README_START} / {README_END}")
    body = [*machine_lines(report["machine"], report["settings"]), "", markdown_table(report["workloads"])]
    busy = load_note(report["settings"], report["machine"])
    if busy:
        body += ["", busy[0].upper() + busy[1:]]
    if report["profiles"]:
        body += ["", "Where the time goes (FULL_TRACE, per op type the median of 3 traced steps):", "",
                 *profile_text(report["profiles"], markdown=True)]
    errors = errors_text(report["workloads"])
    if errors:
        body += ["", "Errors:", "", *[f"- {e}" for e in errors]]
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    path.write_text(head + README_START + "\n" + "\n".join(body) + "\n" + README_END + tail, encoding="utf-8")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats and shorter samples; skips the subprocess and memory workloads")
    parser.add_argument("--only", metavar="NAME[,NAME]",
                        help=f"run only these workloads: {', '.join(BY_NAME)}")
    parser.add_argument("--repeats", type=int, metavar="N",
                        help="timed samples per engine (default per workload)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the JSON file (default %(default)s)")
    parser.add_argument("--engines", default=",".join(engines.ENGINES),
                        help="comma-separated engines to run (default %(default)s)")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="give every engine N threads (default: each engine's own default)")
    parser.add_argument("--full-lesson", action="store_true",
                        help="also time lesson 05's full MNIST training on tfcore and TensorFlow (long)")
    parser.add_argument("--lesson-steps", type=int, default=10000, metavar="N",
                        help="training steps for --full-lesson (default %(default)s, the lesson's full run)")
    parser.add_argument("--big", action="store_true",
                        help="also measure the peak memory of a 512x512 VGG19 style iteration")
    parser.add_argument("--gpu", action="store_true",
                        help="then the GPU section: tfcore-GPU, TF-GPU, tfcore-CPU (benchmarks/gpu.py)")
    parser.add_argument("--no-profile", dest="profile", action="store_false",
                        help="skip the FULL_TRACE profiles of the LeNet-5 step and the style iteration")
    parser.add_argument("--no-readme", dest="readme", action="store_false",
                        help="do not write the table into benchmarks/README.md")
    args = parser.parse_args(argv)
    args.engines = tuple(e.strip() for e in args.engines.split(",") if e.strip())
    unknown = set(args.engines) - set(engines.ENGINES)
    if unknown or "tfcore" not in args.engines:
        parser.error(f"--engines must include tfcore and name only {engines.ENGINES}")
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    if args.quick:
        args.profile = False
    # Only a full default run (default JSON file, no --quick, no --only) rewrites the README's table.
    args.readme = args.readme and not args.quick and not args.only and args.out.resolve() == DEFAULT_OUT
    return args


def main(argv=None):
    args = parse_args(argv)
    ctx = Context(args)
    workloads = selected_workloads(args)
    started, load_start = time.time(), timing.load_average()
    machine = timing.machine_info()
    rows = []
    try:
        for workload in workloads:
            ctx.log(f"{workload.name}: {workload.title} ...")
            t0 = time.time()
            rows.append(evaluate(workload, RUNNERS[workload.kind](workload, ctx), title_for(workload, args)))
            ctx.log(f"{workload.name}: done in {time.time() - t0:.0f} s")
    finally:
        ctx.shutdown()
    gpu_section = None
    if args.gpu:
        from benchmarks import gpu
        gpu_section = gpu.run_section(quick=args.quick, log=ctx.log)
    settings = {
        "command": " ".join(["python -m benchmarks.run", *(argv if argv is not None else sys.argv[1:])]),
        "quick": args.quick, "repeats": args.repeats, "threads": args.threads, "engines": list(args.engines),
        "environment": dict(engines.TF_ENV), "load_start": load_start, "load_end": timing.load_average(),
        "seconds": time.time() - started,
    }
    report = {"schema": SCHEMA, "machine": machine, "settings": settings, "workloads": rows,
              "profiles": ctx.profiles, "slowest_nodes": ctx.slowest_nodes}
    if gpu_section is not None:
        report["gpu"] = gpu_section

    print()
    print(text_table(rows))
    busy = load_note(settings, machine)
    if busy:
        print(busy)
    for line in profile_text(ctx.profiles):
        print(line)
    for line in errors_text(rows):
        print("error:", line)
    if gpu_section is not None:
        from benchmarks import gpu
        print()
        print(gpu.section_text(gpu_section))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    if args.readme:
        update_readme(report)
        print(f"wrote the table into {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
