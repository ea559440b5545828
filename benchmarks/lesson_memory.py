"""Peak memory of the lessons in a student's kernel, and the idle cost of one student's server.

    .venv/bin/python -m benchmarks.lesson_memory [--lessons 05_mnist_fully_connected,07_lenet5]
                                                 [--fast] [--max-seconds 240] [--threads N]
                                                 [--out FILE] [--no-idle]

Each lesson runs top to bottom in a fresh Jupyter kernel (nbclient through `course.lessons.run_lesson`,
the ``python3`` kernel of this interpreter, a temporary working folder). Every 0.2 s a thread reads the
resident memory (RSS) of the kernel's process tree and the kernel's own peak (VmHWM from
/proc/<pid>/status, exact however short the peak). After `--max-seconds` the kernel is interrupted (and
killed if it does not stop), keeping the peak measured so far: a training cell allocates its tensors in
its first steps, so training for every epoch is not needed to see its memory; cells after the stop are
not measured (the JSON says how far each lesson got).

Sizes: without `--fast` COURSE_FAST is unset, so the lessons use their defaults, the full run:
05 trains its 784-500-10 network for 10,000 steps of batch 100; 07 trains LeNet-5 for 4,000 steps of
batch 100 and evaluates the 10,000 test images 500 at a time; 08 runs VGG19 style experiments on
128-pixel-wide images (100 Adam steps each), then a 256-pixel-wide final picture (200 steps).
`--fast` sets COURSE_FAST=1 (05: 200 steps, 07: 30 steps and 1,000 test images, 08: 24 pixels).
The JSON records which cell each lesson had reached when it was stopped (`last_cell_index`, counted
from 0 like the keys of `cell_peaks_mib`, the largest sampled RSS while each cell ran).

The kernel's environment: TFCORE_DATASETS=/work/shared/datasets (`../shared/datasets` beside the
repository) unless set, COURSE_ENGINE=tfcore, and no OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE (this
project's benchmarks run with OpenBLAS's own detection).

`--threads N` sets OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and MKL_NUM_THREADS to N for the kernels
(what a student's pod sets); without it NumPy's BLAS picks its own thread count (the machine's cores).
The CPU time of the kernel's processes is recorded too, and CPU seconds / wall seconds is the number
of cores the lesson kept busy on average.

The idle baseline (skip it with `--no-idle`) starts `jupyter lab` (a temporary root folder, no browser),
starts one kernel through its REST API, runs `import tfcore` in it, waits for it to go idle and records
the RSS of the server and of the kernel: what one logged-in student costs before running anything.

Prints a table and writes JSON (default benchmarks/results/lesson_memory.json).
"""

import argparse
import datetime
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
DEFAULT_LESSONS = ("05_mnist_fully_connected", "07_lenet5", "08_neural_style")
DEFAULT_OUT = REPO / "benchmarks" / "results" / "lesson_memory.json"
SAMPLE_SECONDS = 0.2
KILL_GRACE_SECONDS = 20
MIB = 1024 * 1024
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def vmhwm_mib(pid):
    """The peak resident memory of process `pid` (VmHWM), in MiB; None where /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _tree(process):
    try:
        return [process, *process.children(recursive=True)]
    except psutil.Error:
        return []


def tree_rss_mib(process):
    """The summed RSS of `process` and all its descendants, in MiB (0 for processes gone meanwhile)."""
    total = 0
    for member in _tree(process):
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass
    return total / MIB


def tree_cpu_seconds(process):
    """The CPU time (user + system) `process` and its live descendants have used so far, in seconds."""
    total = 0.0
    for member in _tree(process):
        try:
            times = member.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


class KernelWatch(threading.Thread):
    """Samples the memory of this process's child kernels and stops them after `max_seconds`.

    The kernels nbclient starts are the only children of this process. `peak_tree_mib` is the largest
    sampled RSS of all of them with their descendants; `peak_hwm_mib` the largest VmHWM read from any
    of them; `cpu_seconds` their CPU time at the last sample; `cell_peaks` the largest sampled RSS
    during each cell (set `cell` as cells start)."""

    def __init__(self, max_seconds):
        super().__init__(daemon=True)
        self.max_seconds = max_seconds
        self.started_at = time.perf_counter()
        self.peak_tree_mib = 0.0
        self.peak_hwm_mib = 0.0
        self.cpu_seconds = 0.0
        self.cell = None
        self.cell_peaks = {}
        self.stopped_early = False
        self._done = threading.Event()

    def run(self):
        """Sample until `finish()`; interrupt (SIGINT), then kill, the kernels once time is up."""
        me = psutil.Process()
        interrupted_at = None
        while not self._done.wait(SAMPLE_SECONDS):
            kernels = me.children()
            sample = sum(tree_rss_mib(kernel) for kernel in kernels)
            self.peak_tree_mib = max(self.peak_tree_mib, sample)
            if kernels:
                self.cpu_seconds = max(self.cpu_seconds, sum(tree_cpu_seconds(kernel) for kernel in kernels))
            for kernel in kernels:
                self.peak_hwm_mib = max(self.peak_hwm_mib, vmhwm_mib(kernel.pid) or 0.0)
            if self.cell is not None:
                self.cell_peaks[self.cell] = max(self.cell_peaks.get(self.cell, 0.0), sample)
            elapsed = time.perf_counter() - self.started_at
            if self.max_seconds is None or elapsed < self.max_seconds or not kernels:
                continue
            if interrupted_at is None:
                # time is up: a KeyboardInterrupt in the running cell ends the run as an error
                self.stopped_early, interrupted_at = True, elapsed
                self._signal(kernels, signal.SIGINT)
            elif elapsed - interrupted_at > KILL_GRACE_SECONDS:
                self._signal(kernels, signal.SIGKILL)

    @staticmethod
    def _signal(kernels, number):
        for kernel in kernels:
            try:
                kernel.send_signal(number)
            except psutil.Error:
                pass

    def finish(self):
        """Stop sampling and wait for the thread."""
        self._done.set()
        self.join()


def kernel_environment(fast, threads=None):
    """Set this process's environment as the kernels must see it (run_lesson copies os.environ)."""
    os.environ.setdefault("TFCORE_DATASETS", str(REPO.parent / "shared" / "datasets"))
    os.environ["COURSE_ENGINE"] = "tfcore"
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "COURSE_FAST"):
        os.environ.pop(name, None)
    if fast:
        os.environ["COURSE_FAST"] = "1"
    for name in THREAD_VARIABLES:
        # NumPy's BLAS threads, as a pod sets them (deploy/kubernetes/config.yaml), or BLAS's own choice
        if threads:
            os.environ[name] = str(threads)
        else:
            os.environ.pop(name, None)


def measure_lesson(name, max_seconds):
    """Run lesson `name` in a fresh kernel; its peak memory, wall time and how far it got."""
    from course import lessons

    path = REPO / "lessons" / f"{name}.ipynb"
    watch = KernelWatch(max_seconds)
    progress = {"count": 0}

    def cell_started(index, count):
        watch.cell, progress["count"] = index, count

    error = None
    with tempfile.TemporaryDirectory(prefix="lesson-memory-") as folder:
        work = Path(folder) / "work"
        work.mkdir()
        watch.start()
        try:
            run = lessons.run_lesson(path, Path(folder) / "executed", timeout=None, on_cell=cell_started,
                                     cwd=work)
            seconds = run.seconds
        except lessons.LessonError as failure:
            seconds, error = failure.seconds, failure.error
        finally:
            watch.finish()
    if error is not None and not watch.stopped_early:
        raise RuntimeError(f"lesson {name} failed before --max-seconds: {error}")
    return {
        "lesson": name,
        "peak_rss_mib": round(watch.peak_hwm_mib, 1),
        "peak_tree_rss_mib_sampled": round(watch.peak_tree_mib, 1),
        "seconds": round(seconds, 1),
        "cpu_seconds": round(watch.cpu_seconds, 1),
        "cores_busy": round(watch.cpu_seconds / seconds, 2) if seconds else None,
        "completed": not watch.stopped_early,
        "last_cell_index": watch.cell,
        "cells": progress["count"],
        "cell_peaks_mib": {str(cell): round(mib, 1) for cell, mib in sorted(watch.cell_peaks.items())},
    }


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _api(port, token, path, method="GET", timeout=5):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     headers={"Authorization": f"token {token}"},
                                     data=b"{}" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def _wait_for_server(server, port, token, limit=90):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with status {server.returncode}")
        try:
            return _api(port, token, "/api/status")
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"jupyter lab did not answer within {limit} s")


def _import_in_kernel(connection_file, code="import tfcore"):
    """Run `code` in the kernel behind `connection_file` and wait for its reply."""
    from jupyter_client import BlockingKernelClient

    client = BlockingKernelClient(connection_file=str(connection_file))
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        reply = client.execute_interactive(code, timeout=120, output_hook=lambda message: None)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"{code!r} failed in the kernel: {reply['content'].get('evalue')}")
    finally:
        client.stop_channels()


def measure_idle(settle_seconds=10):
    """RSS of an idle `jupyter lab` and of one idle kernel that has run `import tfcore`."""
    token, port = os.urandom(16).hex(), _free_port()
    with tempfile.TemporaryDirectory(prefix="lesson-memory-idle-") as folder:
        root, runtime = Path(folder) / "root", Path(folder) / "runtime"
        root.mkdir()
        env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(runtime), JUPYTER_TOKEN=token)
        command = [str(Path(sys.executable).parent / "jupyter-lab"), "--no-browser", f"--port={port}",
                   "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={root}", "--log-level=ERROR"]
        if os.geteuid() == 0:
            command.append("--allow-root")  # containers often run as root; jupyter refuses without it
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_for_server(server, port, token)
            time.sleep(settle_seconds)
            server_alone = psutil.Process(server.pid).memory_info().rss / MIB
            kernel_id = _api(port, token, "/api/kernels", method="POST", timeout=60)["id"]
            _import_in_kernel(runtime / f"kernel-{kernel_id}.json")
            time.sleep(settle_seconds)
            return _idle_samples(server.pid, server_alone)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


def _idle_samples(server_pid, server_alone, count=10):
    """Median RSS over `count` samples 0.2 s apart: the server, its kernel(s), the whole tree."""
    server = psutil.Process(server_pid)
    own, kernels, total = [], [], []
    for _ in range(count):
        own.append(server.memory_info().rss / MIB)
        kernels.append(sum(tree_rss_mib(kernel) for kernel in server.children()))
        total.append(tree_rss_mib(server))
        time.sleep(SAMPLE_SECONDS)
    return {
        "server_before_kernel_rss_mib": round(server_alone, 1),
        "server_rss_mib": round(statistics.median(own), 1),
        "kernel_rss_mib": round(statistics.median(kernels), 1),
        "total_rss_mib": round(statistics.median(total), 1),
    }


def print_table(result):
    """The results as a Markdown table, lessons first, then the idle baseline."""
    mode = "COURSE_FAST=1" if result["fast"] else "default sizes (COURSE_FAST unset)"
    limit = f"at most {result['max_seconds']:g} s per lesson" if result["max_seconds"] else "no time limit"
    print(f"\n{mode}, BLAS threads: {result['blas_threads']}, {limit}\n")
    print("| lesson | peak RSS of the kernel (VmHWM) | peak RSS, sampled every 0.2 s | seconds run | "
          "CPU seconds (cores busy) | ran to the end |")
    print("|---|---:|---:|---:|---:|---|")
    for row in result["lessons"]:
        stop = f"no: stopped in cell {row['last_cell_index'] + 1} of {row['cells']}"
        reached = "yes" if row["completed"] else stop
        print(f"| {row['lesson']} | {row['peak_rss_mib']:.0f} MiB | "
              f"{row['peak_tree_rss_mib_sampled']:.0f} MiB | {row['seconds']:.0f} | "
              f"{row['cpu_seconds']:.0f} ({row['cores_busy']:.2f}) | {reached} |")
    idle = result.get("idle")
    if idle:
        print(f"\nidle JupyterLab server {idle['server_rss_mib']:.0f} MiB "
              f"({idle['server_before_kernel_rss_mib']:.0f} MiB before the kernel) + kernel after "
              f"`import tfcore` {idle['kernel_rss_mib']:.0f} MiB = {idle['total_rss_mib']:.0f} MiB")


def main(argv=None):
    """Measure the lessons (and the idle baseline), print the table and write the JSON file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", default=",".join(DEFAULT_LESSONS),
                        help="comma-separated notebook names in lessons/, without .ipynb")
    parser.add_argument("--fast", action="store_true", help="set COURSE_FAST=1 (default: unset)")
    parser.add_argument("--max-seconds", type=float, default=240,
                        help="stop each lesson after this many seconds, keeping its peak (0: no limit)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS/OpenMP threads of the kernels (default: NumPy's own choice)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--no-idle", action="store_true", help="skip the idle JupyterLab baseline")
    args = parser.parse_args(argv)
    kernel_environment(args.fast, args.threads)
    result = {
        "command": "python -m benchmarks.lesson_memory " + " ".join(sys.argv[1:] if argv is None else argv),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 1024**3, 1),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "fast": args.fast,
        "blas_threads": args.threads or "default",
        "max_seconds": args.max_seconds or None,
        "lessons": [],
    }
    for name in filter(None, args.lessons.split(",")):
        print(f"running {name} ...", flush=True)
        result["lessons"].append(measure_lesson(name, args.max_seconds or None))
    if not args.no_idle:
        print("measuring the idle JupyterLab server and kernel ...", flush=True)
        result["idle"] = measure_idle()
    result["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print_table(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
