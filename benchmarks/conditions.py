"""The three conditions the timed workloads run in: "quiet", "competing" and "quota".

- ``quiet``: nothing but the engines' workers runs (besides whatever else the machine is doing).
- ``competing``: `competing_load` starts one CPU-bound process (a pure-Python busy loop) before the
  condition's samples and kills it right after, for every engine alike; it never outlives the
  benchmark (killed in a ``finally``, and it ends by itself when its parent is gone).
- ``quota``: the workers run under a one-CPU CPU quota, one cgroup per worker process (`CpuQuota`):
  cgroup v2 with the cpu controller (``cpu.max = "100000 100000"``), else the cgroup v1 cpu
  hierarchy (``cpu.cfs_quota_us = cpu.cfs_period_us = 100000``). The worker joins its cgroup as the
  first thing it does, before it imports NumPy or the engine. Where no cgroup can be made, the
  condition is skipped with the reason.
"""

import contextlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

CONDITIONS = ("quiet", "competing", "quota")
DESCRIPTIONS = {
    "quiet": "no other load started by the benchmark",
    "competing": "one CPU-bound process (a Python busy loop) runs during the samples",
    "quota": "each worker in its own cgroup with a one-CPU quota (100 ms per 100 ms)",
}
QUOTA_US = PERIOD_US = 100_000
PREFIX = "tfcore-bench-"

# The competing process: says it is running, then spins until its parent (the benchmark) is gone.
# The parent check costs one system call per 200,000 loop iterations (about every 5 ms).
COMPETING_SCRIPT = (
    "import os\n"
    "parent = os.getppid()\n"
    "print('ready', flush=True)\n"
    "while os.getppid() == parent:\n"
    "    for _ in range(200000):\n"
    "        pass\n"
)


def parse_conditions(text):
    """The conditions named in `text` ("quiet,competing"), in their fixed order; ValueError if unknown."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(names) - set(CONDITIONS))
    if unknown or not names:
        raise ValueError(f"unknown condition(s) {unknown}; choose from {', '.join(CONDITIONS)}")
    return tuple(name for name in CONDITIONS if name in names)


def _cpu_seconds(pid):
    """User + system CPU seconds of process `pid` so far (None where /proc cannot say)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


@contextlib.contextmanager
def competing_load(log, label):
    """Run one CPU-bound process for the duration of the ``with`` block; append what it did (pid,
    wall and CPU seconds, exit status) to the list `log`. It is killed and reaped on every way out."""
    proc = subprocess.Popen([sys.executable, "-S", "-c", COMPETING_SCRIPT], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    entry = {"workload": label, "pid": proc.pid, "stopped": False}
    log.append(entry)
    started = time.monotonic()
    try:
        if proc.stdout.readline().strip() != "ready":  # wait until it really runs
            raise RuntimeError(f"the competing process exited at once (status {proc.poll()})")
        yield entry
    finally:
        entry["cpu_seconds"] = _cpu_seconds(proc.pid)
        proc.kill()
        proc.wait()
        proc.stdout.close()
        entry.update(wall_seconds=round(time.monotonic() - started, 3), returncode=proc.returncode,
                     stopped=True)


# --- the CPU quota ------------------------------------------------------------------------------


def _mounts(path="/proc/mounts"):
    """(cgroup2 mount point or None, cgroup v1 mount point of the cpu controller or None)."""
    v2 = v1 = None
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return None, None
    for line in lines:
        fields = line.split()
        if len(fields) < 4:
            continue
        where, fstype, options = fields[1], fields[2], fields[3].split(",")
        if fstype == "cgroup2" and v2 is None:
            v2 = where
        elif fstype == "cgroup" and "cpu" in options and v1 is None:
            v1 = where
    return v2, v1


def _v2_usable(root):
    """None when cgroups with a cpu.max can be made under the cgroup2 `root`, else the reason."""
    try:
        if "cpu" not in Path(root, "cgroup.controllers").read_text().split():
            return f"cgroup2 at {root} has no cpu controller"
        subtree = Path(root, "cgroup.subtree_control")
        if "cpu" not in subtree.read_text().split():
            subtree.write_text("+cpu")  # let the child cgroups use the cpu controller
    except OSError as error:
        return f"cgroup2 at {root}: {error.strerror or error}"
    return None


def find_hierarchy(mounts="/proc/mounts"):
    """(directory to make the cgroups in, "v2" or "v1", None), or (None, None, why there is none)."""
    v2, v1 = _mounts(mounts)
    reasons = []
    if v2:
        why = _v2_usable(v2)
        if why is None:
            return v2, "v2", None
        reasons.append(why)
    if v1:
        if os.access(v1, os.W_OK):
            return v1, "v1", None
        reasons.append(f"{v1} is not writable" + (" (not root)" if os.geteuid() != 0 else ""))
    elif not v2:
        reasons.append("no cgroup filesystem is mounted")
    else:
        reasons.append("no cgroup v1 cpu hierarchy")
    return None, None, "; ".join(reasons)


def _pid_alive(pid):
    return Path(f"/proc/{pid}").exists()


class CpuQuota:
    """Makes and removes one-CPU quota cgroups, one per worker process. `reason` is None when they
    can be made here (checked by making and removing one), else why the quota condition is skipped."""

    def __init__(self, mounts="/proc/mounts"):
        self.root, self.version, self.reason = find_hierarchy(mounts)
        self.made = []  # one record per cgroup: dir, engine, whether it was removed
        self._count = 0
        if self.reason is None:
            self._remove_stale()
            try:
                self.remove(self.create("probe"))
                self.made.clear()
            except OSError as error:
                self.reason = f"cannot make a cgroup under {self.root}: {error.strerror or error}"

    def describe(self):
        """How the quota is set, in words (for the JSON and the README)."""
        if self.version == "v2":
            return f"cgroup v2 under {self.root}: cpu.max = \"{QUOTA_US} {PERIOD_US}\""
        return f"cgroup v1 under {self.root}: cpu.cfs_quota_us = {QUOTA_US}, cpu.cfs_period_us = {PERIOD_US}"

    def create(self, label):
        """A new cgroup directory with the one-CPU quota (OSError where it cannot be made)."""
        self._count += 1
        path = Path(self.root, f"{PREFIX}{os.getpid()}-{label}-{self._count}")
        path.mkdir()
        try:
            if self.version == "v2":
                (path / "cpu.max").write_text(f"{QUOTA_US} {PERIOD_US}")
            else:
                (path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
                (path / "cpu.cfs_quota_us").write_text(str(QUOTA_US))
        except OSError:
            path.rmdir()
            raise
        self.made.append({"dir": str(path), "label": label, "removed": False})
        return path

    def remove(self, path, attempts=50):
        """Remove the cgroup `path` once its processes have exited (retrying for about 2.5 s)."""
        for attempt in range(attempts):
            try:
                Path(path).rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                if attempt == attempts - 1:
                    return False
                time.sleep(0.05)  # the exited worker may not have left the cgroup yet
        for record in self.made:
            if record["dir"] == str(path):
                record["removed"] = True
        return True

    def relative(self, path):
        """The cgroup's path as /proc/PID/cgroup writes it ("/tfcore-bench-...")."""
        return "/" + str(Path(path).relative_to(self.root))

    def contains(self, proc_cgroup, path):
        """Whether the text of a /proc/PID/cgroup file puts the process in the cgroup `path`."""
        relative = self.relative(path)
        for line in proc_cgroup.splitlines():
            _, controllers, where = line.split(":", 2)
            cpu = controllers == "" if self.version == "v2" else "cpu" in controllers.split(",")
            if cpu and where == relative:
                return True
        return False

    def _remove_stale(self):
        """Remove empty cgroups left by a benchmark run that was killed (its pid is gone)."""
        for path in Path(self.root).glob(PREFIX + "*"):
            match = re.match(re.escape(PREFIX) + r"(\d+)-", path.name)
            if match and not _pid_alive(int(match.group(1))):
                with contextlib.suppress(OSError):
                    path.rmdir()
