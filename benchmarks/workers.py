"""The processes `benchmarks.run` starts: its workers (`benchmarks.worker`, one per engine and
condition) and its one-off children (`benchmarks.child`), all with `child_environment`."""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import engines
from benchmarks.child import run_for_result

ROOT = Path(__file__).resolve().parent.parent
# Variables some machines set that force NumPy's OpenBLAS onto other kernels (and cache sizes) than
# the CPU's own; the benchmark's processes run without them, with the kernels students get.
BLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def child_environment(threads=None):
    """The environment of the worker and child processes: this one without `BLAS_OVERRIDES`, with
    TensorFlow's settings, --threads and the repository on PYTHONPATH."""
    env = dict(os.environ)
    for name in BLAS_OVERRIDES:
        env.pop(name, None)
    engines.set_tf_environment(env)
    if threads is not None:
        env.update(engines.thread_environment(threads))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def run_child(kind, engine, *extra, threads=None, timeout=None):
    """Run ``python -m benchmarks.child KIND --engine ENGINE ...`` and return its result dict."""
    command = [sys.executable, "-m", "benchmarks.child", kind, "--engine", engine, *extra]
    return run_for_result(command, child_environment(threads), ROOT, timeout)


class WorkerProcess:
    """A `benchmarks.worker` process running one engine (in the cgroup `cgroup` if given); `request`
    sends a command and returns the reply."""

    def __init__(self, engine, threads=None, cgroup=None):
        self.engine = engine
        self.cgroup = cgroup
        self.log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        command = [sys.executable, "-m", "benchmarks.worker", "--engine", engine]
        if cgroup is not None:
            command += ["--cgroup", str(cgroup)]
        self.proc = subprocess.Popen(command, cwd=ROOT, env=child_environment(threads), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True, encoding="utf-8")
        self.status = None  # the first reply: did the engine import, and what BLAS it loaded

    def wait_ready(self):
        """The worker's first reply ({"ok": true, ...} or {"error": ...}), read once."""
        if self.status is None:
            self.status = self._read()
        return self.status

    def alive(self):
        """Whether the process runs and its engine imported."""
        return self.proc.poll() is None and "error" not in (self.status or {})

    def request(self, cmd, **arguments):
        """Send one request and return the reply ({"error": ...} if the worker is gone)."""
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
        """Ask the worker to exit (kill it after 30 s) and wait for it."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"cmd": "exit"}) + "\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
        self.proc.wait()
        self.log.close()
