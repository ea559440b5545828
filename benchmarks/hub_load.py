"""A class on one server: `make hub` with N students, each server started and lesson 01 run in each.

    sudo .venv/bin/python -m benchmarks.hub_load [--students 20]

Starts the hub the way tests/hub does (the README's `make hub`, its own state folder, a roster of N
students), then through the REST API with the instructors' token: starts every student's server at
once and times each until it is ready; measures each server's memory (all processes of that student's
system user, resident); runs every code cell of lesson 01 (the student's own copy, default sizes) in
a new kernel of one server alone, then of every server at once, over the Jupyter kernel API, and
records the times, the failures and each student's peak memory. Prints a table and writes
benchmarks/results/hub_load.json, which deploy/hub/README.md quotes. Removes the students and the
state folder at the end.
"""

import argparse
import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import psutil

from tests.hub.helpers import ClassHub, KernelClient

RESULTS = Path(__file__).resolve().parent / "results" / "hub_load.json"
LESSON = "lessons/01_tensors_graphs_sessions.ipynb"
MIB = 1024 * 1024


def rss_by_user():
    """Resident memory of all processes of each system user, in MiB, from one pass over the processes."""
    totals = {}
    for process in psutil.process_iter(["username", "memory_info"]):
        if process.info["memory_info"]:
            name = process.info["username"]
            totals[name] = totals.get(name, 0.0) + process.info["memory_info"].rss / MIB
    return totals


def spawn(hub, name):
    """Starts `name`'s server through the REST API; seconds until the hub reports it ready."""
    start = time.monotonic()
    hub.api("POST", f"/users/{name}/server").raise_for_status()
    hub.wait_ready(name, timeout=600)
    return time.monotonic() - start


def run_lesson(hub, name, cells):
    """Runs `cells` in a new kernel of `name`'s server; (seconds, error or None)."""
    start = time.monotonic()
    kernel = KernelClient(hub, name, hub.user_token(name))
    try:
        for source in cells:
            status, _, error = kernel.run(source, timeout=900)
            if status != "ok":
                return time.monotonic() - start, error
        return time.monotonic() - start, None
    finally:
        kernel.close()


class PeakMemory:
    """Samples every student's memory every half second while running; keeps each one's peak."""

    def __init__(self, names):
        self.peaks = dict.fromkeys(names, 0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        while not self._stop.wait(0.5):
            now = rss_by_user()
            for name in self.peaks:
                self.peaks[name] = max(self.peaks[name], now.get(name, 0.0))

    def stop(self):
        """Stops sampling; returns name -> peak MiB."""
        self._stop.set()
        self._thread.join()
        return self.peaks


def measure(students):
    """Runs the whole measurement with `students` students; returns the figures as a dict."""
    names = [f"load-s{i:02d}" for i in range(1, students + 1)]
    started = time.monotonic()
    hub = ClassHub(names, "load-teach", Path("/srv/tfcore-hub-load"), fast=False)
    setup_seconds = time.monotonic() - started
    try:
        hub_processes = psutil.Process(hub.server.process.pid).children(recursive=True)
        hub_rss = sum(process.memory_info().rss for process in hub_processes) / MIB
        with ThreadPoolExecutor(len(names)) as pool:
            spawn_seconds = dict(zip(names, pool.map(lambda name: spawn(hub, name), names)))
        now = rss_by_user()
        idle = {name: now.get(name, 0.0) for name in names}
        source = nbformat.read(Path(hub.env.get("HUB_PREFIX", "/opt/tfcore-hub")) / "course" / LESSON, 4)
        cells = [cell.source for cell in source.cells if cell.cell_type == "code"]
        alone_seconds, alone_error = run_lesson(hub, names[0], cells)  # the baseline: one student only
        peaks = PeakMemory(names)
        with ThreadPoolExecutor(len(names)) as pool:
            runs = dict(zip(names, pool.map(lambda name: run_lesson(hub, name, cells), names)))
        peak = peaks.stop()
    finally:
        hub.close()
    return {
        "students": students, "cpus": psutil.cpu_count(),
        "memory_gib": psutil.virtual_memory().total / 1024**3,
        "setup_and_start_s": setup_seconds, "hub_and_services_rss_mib": hub_rss,
        "spawn_s": spawn_seconds, "idle_server_mib": idle,
        "lesson01_alone_s": alone_seconds, "lesson01_alone_error": alone_error,
        "lesson01_s": {name: seconds for name, (seconds, _) in runs.items()},
        "failures": {name: error for name, (_, error) in runs.items() if error},
        "peak_mib": peak,
    }


def summary(figures):
    """The table printed and quoted in deploy/hub/README.md."""
    def stats(values):
        values = sorted(values)
        return f"median {statistics.median(values):.1f}, max {values[-1]:.1f}"

    return "\n".join([
        f"{figures['students']} students on {figures['cpus']} CPUs, {figures['memory_gib']:.0f} GiB",
        f"hub + proxy + formgrader + culler: {figures['hub_and_services_rss_mib']:.0f} MiB",
        f"spawn time (all at once), s: {stats(figures['spawn_s'].values())}",
        f"idle server per student, MiB: {stats(figures['idle_server_mib'].values())}",
        f"lesson 01 in one server alone, s: {figures['lesson01_alone_s']:.1f}",
        f"lesson 01 in every server at once, s: {stats(figures['lesson01_s'].values())}",
        f"peak memory per student during lesson 01, MiB: {stats(figures['peak_mib'].values())}",
        f"failures: {len(figures['failures'])} {figures['failures'] or ''}",
    ])


def main():
    """Parses the options, measures, prints the summary and writes the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    figures = measure(parser.parse_args().students)
    print(summary(figures))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written: {RESULTS}")


if __name__ == "__main__":
    main()
