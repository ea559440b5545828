"""How many CPUs this process may use: the CPU affinity mask, capped by the cgroup's CPU quota.

OpenBLAS, NumPy's threaded kernels and TensorFlow's thread pools size themselves from the cores the
machine shows (`os.cpu_count()`), which on Binder or Kubernetes is often many more than the CPU
quota the container is given; so many busy threads in a quota-limited cgroup oversubscribe it and
get throttled. This module reads what the kernel says this process may use:

- the affinity mask (`os.sched_getaffinity`), which `taskset` and cpusets restrict;
- the CFS quota of the process's cgroup and of each of its ancestors (a parent's limit applies to
  its children): cgroup v2's ``cpu.max``, cgroup v1's ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``,
  located through ``/proc/self/cgroup`` and ``/proc/self/mountinfo``.

`usable_cpus()` combines them; the environment variable ``TFCORE_NUM_THREADS`` overrides it.
Unreadable or missing files count as "no limit": nothing here raises for what the system lacks.
"""

import functools
import math
import os
import re
from collections.abc import Mapping

ENV_VAR = "TFCORE_NUM_THREADS"
_DEFAULT_CGROUP_ROOT = "/sys/fs/cgroup"


def affinity_cpus() -> int:
    """The number of CPUs in this process's affinity mask (`os.cpu_count()` where there is none)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # no sched_getaffinity on macOS and Windows
        return os.cpu_count() or 1


def _read(path: str) -> str | None:
    """The text of a file, or None where it cannot be read."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, ValueError):  # missing, unreadable, or not text
        return None


def _unescape(field: str) -> str:
    """A mountinfo field with the kernel's octal escapes (``\\040`` for a space) decoded."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _rebase(mount_point: str, cgroup_root: str) -> str:
    """A mount point beneath /sys/fs/cgroup moved beneath `cgroup_root` (where that differs)."""
    if cgroup_root != _DEFAULT_CGROUP_ROOT and (
        mount_point == _DEFAULT_CGROUP_ROOT or mount_point.startswith(_DEFAULT_CGROUP_ROOT + "/")
    ):
        return cgroup_root + mount_point[len(_DEFAULT_CGROUP_ROOT):]
    return mount_point


def _cgroup_mounts(proc_root: str, cgroup_root: str) -> list[tuple[str, str, str, list[str]]]:
    """(filesystem type, root, mount point, super options) of each cgroup mount in mountinfo."""
    mounts = []
    for line in (_read(os.path.join(proc_root, "self", "mountinfo")) or "").splitlines():
        # "36 25 0:31 <root> <mount point> <options> [optional fields] - <fstype> <source> <super options>"
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if sep and len(fields) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
            mount_point = _rebase(_unescape(fields[4]), cgroup_root)
            mounts.append((tail[0], _unescape(fields[3]), mount_point, tail[2].split(",")))
    return mounts


def _own_cgroups(proc_root: str) -> tuple[str | None, str | None]:
    """This process's cgroup v2 path and its cgroup v1 path for the cpu controller (None if absent)."""
    v2 = v1 = None
    for line in (_read(os.path.join(proc_root, "self", "cgroup")) or "").splitlines():
        # "hierarchy-id:controller,list:/path"; v2 is "0::/path"
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and controllers == "":
            v2 = path
        elif "cpu" in controllers.split(","):
            v1 = path
    return v2, v1


def _is_under(path: str, root: str) -> bool:
    """Whether cgroup `path` is `root` or beneath it."""
    root = root.rstrip("/")
    return root == "" or path == root or path.startswith(root + "/")


def _pick_mount(mounts: list[tuple[str, str]], path: str, fallbacks: list[str]) -> tuple[str, str] | None:
    """The (mount point, root) to read `path` in: a mount whose root holds it, else any, else a fallback."""
    for mount_point, root in mounts:
        if _is_under(path, root):
            return mount_point, root
    if mounts:
        return mounts[0]
    return (fallbacks[0], "/") if fallbacks else None


def _smallest_limit(mount_point: str, root: str, path: str, limit_of) -> float | None:
    """The smallest `limit_of(directory)` over `path`'s directory and its ancestors up to the mount."""
    # Inside a container the mount's root can be the cgroup path itself: make `path` relative to it.
    # A path outside the mount's root is not visible there: the mount's own cgroup is the best guess.
    root = root.rstrip("/")
    relative = path[len(root):] if _is_under(path, root) else ""
    parts = [part for part in relative.split("/") if part]
    limits = [limit_of(os.path.join(mount_point, *parts[:depth])) for depth in range(len(parts), -1, -1)]
    return min((limit for limit in limits if limit is not None), default=None)


def _ratio(quota: str, period: str) -> float | None:
    """quota / period as CPUs, or None for no limit ("max", -1) or text that is not a number."""
    try:
        quota_us, period_us = int(quota), int(period)
    except ValueError:
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None


def _v2_limit(directory: str) -> float | None:
    """The CPUs that cgroup v2's ``cpu.max`` ("150000 100000" or "max 100000") allows, or None."""
    fields = (_read(os.path.join(directory, "cpu.max")) or "").split()
    if not fields or fields[0] == "max":
        return None
    return _ratio(fields[0], fields[1] if len(fields) > 1 else "100000")


def _v1_limit(directory: str) -> float | None:
    """The CPUs that cgroup v1's ``cpu.cfs_quota_us`` (-1: no limit) and ``cpu.cfs_period_us`` allow."""
    quota = _read(os.path.join(directory, "cpu.cfs_quota_us"))
    period = _read(os.path.join(directory, "cpu.cfs_period_us"))
    return None if quota is None or period is None else _ratio(quota.strip(), period.strip())


def cgroup_quota(proc_root: str = "/proc", cgroup_root: str = _DEFAULT_CGROUP_ROOT) -> float | None:
    """The CPU quota of this process's cgroup as a number of CPUs (quota / period), or None.

    Reads ``<proc_root>/self/cgroup`` and ``<proc_root>/self/mountinfo``, then the quota files of the
    process's cgroup and of its ancestors in cgroup v2 and in the v1 hierarchy of the cpu controller,
    and returns the smallest limit found. Mount points under /sys/fs/cgroup are read beneath
    `cgroup_root`; without mountinfo, v2 is looked for at `cgroup_root` or ``<cgroup_root>/unified``
    and v1 at ``<cgroup_root>/cpu,cpuacct`` or ``<cgroup_root>/cpu``. None means no limit was found.
    """
    v2_path, v1_path = _own_cgroups(proc_root)
    mounts = _cgroup_mounts(proc_root, cgroup_root)
    limits = []
    if v2_path is not None:
        v2_mounts = [(point, root) for fstype, root, point, _ in mounts if fstype == "cgroup2"]
        candidates = [cgroup_root, os.path.join(cgroup_root, "unified")]
        fallbacks = [d for d in candidates if os.path.isfile(os.path.join(d, "cgroup.controllers"))]
        mount = _pick_mount(v2_mounts, v2_path, fallbacks)
        if mount is not None:
            limits.append(_smallest_limit(*mount, v2_path, _v2_limit))
    if v1_path is not None:
        v1_mounts = [(point, root) for fstype, root, point, options in mounts
                     if fstype == "cgroup" and "cpu" in options]
        candidates = [os.path.join(cgroup_root, "cpu,cpuacct"), os.path.join(cgroup_root, "cpu")]
        mount = _pick_mount(v1_mounts, v1_path, [d for d in candidates if os.path.isdir(d)])
        if mount is not None:
            limits.append(_smallest_limit(*mount, v1_path, _v1_limit))
    return min((limit for limit in limits if limit is not None), default=None)


def cpus_for(affinity: int, quota: float | None) -> int:
    """The CPUs to use given `affinity` CPUs and a quota: min(affinity, ceil(quota)), at least 1."""
    if quota is None:
        return max(1, affinity)
    return max(1, min(affinity, math.ceil(quota)))


@functools.cache
def _detected_cpus() -> int:
    """`cpus_for` of this process's affinity and cgroup quota, read once."""
    return cpus_for(affinity_cpus(), cgroup_quota())


def usable_cpus(environ: Mapping[str, str] = os.environ) -> int:
    """How many CPUs this process may use: ``TFCORE_NUM_THREADS`` where set (a positive integer;
    an empty value counts as unset), else the affinity CPUs capped by the cgroup quota rounded up.

    The environment is read on every call; the detection from the system is done once and cached.
    Raises ValueError when ``TFCORE_NUM_THREADS`` is not a positive integer.
    """
    value = environ.get(ENV_VAR, "").strip()
    if not value:
        return _detected_cpus()
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise ValueError(f"{ENV_VAR} must be a positive integer, got {value!r}")
    return count
