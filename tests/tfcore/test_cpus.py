"""tfcore.platform.cpus: the CPU quota read from cgroup v1 and v2 trees, and `usable_cpus`.

The tree tests write, under tmp_path, the files the kernel shows (``/proc/self/cgroup``,
``/proc/self/mountinfo`` and the cgroup files, in the kernel's formats) and point `cgroup_quota` at
them. The last test makes a real cgroup with a 1-CPU quota and runs a Python process in it.
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tfcore.platform.cpus import ENV_VAR, affinity_cpus, cgroup_quota, cpus_for, usable_cpus

ROOT = Path(__file__).resolve().parents[2]

# mountinfo lines as a host (v2 only, and v1 beside a v2 "unified" hierarchy) and a container show them
V2_MOUNT = (
    "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
)
V1_MOUNTS = (
    "31 23 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw\n"
    "35 31 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup "
    "rw,cpu,cpuacct\n"
    "36 31 0:33 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,memory\n"
)
V1_CONTAINER_MOUNT = (
    "1290 1285 0:32 /kubepods/pod1/ctr /sys/fs/cgroup/cpu,cpuacct ro,nosuid,nodev,noexec,relatime "
    "master:15 - cgroup cgroup rw,cpu,cpuacct\n"
)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _tree(tmp_path: Path, cgroup: str, mountinfo: str | None, files: dict[str, str]) -> float | None:
    """Writes /proc/self/{cgroup,mountinfo} and the cgroup files under tmp_path; returns cgroup_quota."""
    proc, cg = tmp_path / "proc", tmp_path / "sys-fs-cgroup"
    _write(proc / "self" / "cgroup", cgroup)
    if mountinfo is not None:
        _write(proc / "self" / "mountinfo", mountinfo)
    for name, text in files.items():
        _write(cg / name, text)
    cg.mkdir(exist_ok=True)
    return cgroup_quota(proc_root=str(proc), cgroup_root=str(cg))


# --- cgroup v2 -----------------------------------------------------------------------------------

V2_CGROUP = "0::/kubepods/pod1/ctr\n"
V2_BASE = {"cgroup.controllers": "cpuset cpu io memory pids\n", "cpu.max": "max 100000\n"}


def test_v2_no_limit(tmp_path):
    files = {**V2_BASE, "kubepods/cpu.max": "max 100000\n", "kubepods/pod1/ctr/cpu.max": "max 100000\n"}
    assert _tree(tmp_path, V2_CGROUP, V2_MOUNT, files) is None


def test_v2_limit(tmp_path):
    files = {**V2_BASE, "kubepods/pod1/cpu.max": "max 100000\n",
             "kubepods/pod1/ctr/cpu.max": "150000 100000\n"}
    assert _tree(tmp_path, V2_CGROUP, V2_MOUNT, files) == 1.5


def test_v2_parent_limit_smaller_than_child(tmp_path):
    files = {**V2_BASE, "kubepods/pod1/cpu.max": "50000 100000\n",
             "kubepods/pod1/ctr/cpu.max": "200000 100000\n"}
    assert _tree(tmp_path, V2_CGROUP, V2_MOUNT, files) == 0.5


def test_v2_missing_or_unreadable_cpu_max(tmp_path):
    files = {"cgroup.controllers": "memory pids\n", "kubepods/pod1/ctr/memory.max": "max\n"}
    assert _tree(tmp_path / "missing", V2_CGROUP, V2_MOUNT, files) is None
    # cpu.max that is a directory, and one that is not numbers: no limit, no exception
    files = {"kubepods/pod1/ctr/cpu.max/x": "", "kubepods/pod1/cpu.max": "lots 100000\n"}
    assert _tree(tmp_path / "unreadable", V2_CGROUP, V2_MOUNT, files) is None
    # no /proc/self/cgroup at all
    assert cgroup_quota(proc_root=str(tmp_path / "nothing"), cgroup_root=str(tmp_path / "nothing")) is None


def test_v2_without_mountinfo_uses_cgroup_root(tmp_path):
    files = {**V2_BASE, "kubepods/pod1/ctr/cpu.max": "300000 100000\n"}
    assert _tree(tmp_path, V2_CGROUP, None, files) == 3.0


def test_v2_namespaced_container(tmp_path):
    # with a cgroup namespace the container's cgroup is "/" and is the mount's root
    assert _tree(tmp_path, "0::/\n", V2_MOUNT, {**V2_BASE, "cpu.max": "250000 100000\n"}) == 2.5


# --- cgroup v1 -----------------------------------------------------------------------------------

V1_CGROUP = (
    "12:pids:/kubepods/pod1/ctr\n"
    "5:memory:/kubepods/pod1/ctr\n"
    "4:cpu,cpuacct:/kubepods/pod1/ctr\n"
    "1:name=systemd:/kubepods/pod1/ctr\n"
    "0::/kubepods/pod1/ctr\n"
)


def _v1_files(directory: str, quota: str, period: str = "100000") -> dict[str, str]:
    prefix = f"cpu,cpuacct/{directory}/" if directory else "cpu,cpuacct/"
    return {prefix + "cpu.cfs_quota_us": quota + "\n", prefix + "cpu.cfs_period_us": period + "\n"}


def test_v1_no_limit(tmp_path):
    files = {**_v1_files("", "-1"), **_v1_files("kubepods/pod1/ctr", "-1"), "unified/cgroup.controllers": ""}
    assert _tree(tmp_path, V1_CGROUP, V1_MOUNTS, files) is None


def test_v1_limit(tmp_path):
    files = {**_v1_files("", "-1"), **_v1_files("kubepods/pod1/ctr", "50000")}
    assert _tree(tmp_path, V1_CGROUP, V1_MOUNTS, files) == 0.5


def test_v1_parent_limit(tmp_path):
    files = {**_v1_files("kubepods/pod1", "50000"), **_v1_files("kubepods/pod1/ctr", "-1")}
    assert _tree(tmp_path, V1_CGROUP, V1_MOUNTS, files) == 0.5
    # the period is read, not assumed
    files = {**_v1_files("kubepods/pod1", "100000", "50000"), **_v1_files("kubepods/pod1/ctr", "-1")}
    assert _tree(tmp_path / "period", V1_CGROUP, V1_MOUNTS, files) == 2.0


def test_v1_container_root(tmp_path):
    # In the container, the mount's root is the container's cgroup: its files are at the mount point,
    # and the process's cgroup /kubepods/pod1/ctr/job is the mount's "job" directory.
    cgroup = "4:cpu,cpuacct:/kubepods/pod1/ctr/job\n"
    files = {**_v1_files("", "-1"), **_v1_files("job", "50000"),
             **_v1_files("kubepods/pod1/ctr/job", "25000")}  # a decoy the host's path would find
    assert _tree(tmp_path, cgroup, V1_CONTAINER_MOUNT, files) == 0.5
    assert _tree(tmp_path / "top", "4:cpu,cpuacct:/kubepods/pod1/ctr\n", V1_CONTAINER_MOUNT,
                 _v1_files("", "150000")) == 1.5


def test_v1_separate_cpu_hierarchy(tmp_path):
    # cpu mounted on its own, as on hosts with "1:cpu:/path" and cpuacct elsewhere; a mount point
    # with a space, which mountinfo writes as \040
    mountinfo = "32 31 0:29 / /sys/fs/cgroup/my\\040cpu rw,relatime - cgroup cgroup rw,cpu\n"
    files = {"my cpu/a/cpu.cfs_quota_us": "75000\n", "my cpu/a/cpu.cfs_period_us": "100000\n"}
    assert _tree(tmp_path, "2:cpuacct:/a\n1:cpu:/a\n", mountinfo, files) == 0.75


def test_v1_fallback_without_mountinfo(tmp_path):
    files = {**_v1_files("", "-1"), **_v1_files("kubepods/pod1/ctr", "200000")}
    assert _tree(tmp_path, V1_CGROUP, None, files) == 2.0
    # the "cpu" directory when there is no "cpu,cpuacct"
    files = {"cpu/a/cpu.cfs_quota_us": "100000\n", "cpu/a/cpu.cfs_period_us": "100000\n"}
    assert _tree(tmp_path / "cpu", "3:cpu:/a\n", None, files) == 1.0


def test_v1_missing_period_or_garbage_is_no_limit(tmp_path):
    files = {"cpu,cpuacct/kubepods/pod1/ctr/cpu.cfs_quota_us": "50000\n"}
    assert _tree(tmp_path, V1_CGROUP, V1_MOUNTS, files) is None
    assert _tree(tmp_path / "garbage", V1_CGROUP, V1_MOUNTS, _v1_files("kubepods/pod1/ctr", "x")) is None


# --- usable_cpus ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("affinity", "quota", "expected"), [
    (8, None, 8), (8, 1.5, 2), (8, 0.5, 1), (8, 0.01, 1), (8, 2.0, 2),
    (2, 16.0, 2), (0, None, 1), (1, 4.0, 1),
])
def test_cpus_for_rounds_up_and_stays_between_1_and_affinity(affinity, quota, expected):
    assert cpus_for(affinity, quota) == expected


def test_usable_cpus_from_the_system():
    detected = usable_cpus({})
    assert detected == cpus_for(affinity_cpus(), cgroup_quota())
    assert 1 <= detected <= affinity_cpus()
    assert usable_cpus({ENV_VAR: ""}) == detected  # empty counts as unset


def test_env_override_wins_and_is_not_cached():
    assert usable_cpus({ENV_VAR: "3"}) == 3
    assert usable_cpus({ENV_VAR: " 64 "}) == 64
    assert usable_cpus({}) == cpus_for(affinity_cpus(), cgroup_quota())
    assert usable_cpus({ENV_VAR: "5"}) == 5


def test_env_override_from_os_environ(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "7")
    assert usable_cpus() == 7


@pytest.mark.parametrize("value", ["0", "-2", "many", "1.5"])
def test_env_override_bad_value(value):
    with pytest.raises(ValueError, match=ENV_VAR):
        usable_cpus({ENV_VAR: value})


# --- a real cgroup with a 1-CPU quota ------------------------------------------------------------

# argv[1], where given, is the cgroup's procs file: the program moves itself in before it asks
PROGRAM = """
import os, sys
if len(sys.argv) > 1:
    with open(sys.argv[1], "w") as procs:
        procs.write(str(os.getpid()))
from tfcore.platform.cpus import cgroup_quota, usable_cpus
print(usable_cpus(), cgroup_quota())
"""


def _mount_point(fstype: str, option: str | None) -> Path | None:
    """This system's mount point of a cgroup filesystem (with super option `option`), from mountinfo."""
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        tail = right.split()
        if len(tail) >= 3 and tail[0] == fstype and (option is None or option in tail[2].split(",")):
            return Path(left.split()[4].replace("\\040", " "))
    return None


def _make_quota_cgroup() -> tuple[Path, Path]:
    """A new cgroup with a 1-CPU quota (quota = period = 100000): its directory and its procs file."""
    if os.geteuid() != 0:
        pytest.skip("creating a cgroup needs root")
    name = f"tfcore-test-cpus-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    reasons = []
    v1 = _mount_point("cgroup", "cpu")
    v2 = _mount_point("cgroup2", None)
    if v1 is None:
        reasons.append("no cgroup v1 cpu hierarchy is mounted")
    try:
        v2_controllers = (v2 / "cgroup.subtree_control").read_text().split() if v2 else []
    except OSError:
        v2_controllers = []
    if v2 is not None and "cpu" not in v2_controllers:
        reasons.append(f"cgroup v2 at {v2} has no cpu controller enabled")
        v2 = None
    for base, quota_files in [(v1, {"cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "100000"}),
                              (v2, {"cpu.max": "100000 100000"})]:
        if base is None:
            continue
        directory = base / name
        try:
            directory.mkdir()
        except OSError as e:
            reasons.append(f"cannot create {directory}: {e}")
            continue
        try:
            for file, text in quota_files.items():
                (directory / file).write_text(text)
        except OSError as e:
            directory.rmdir()
            reasons.append(f"cannot set the quota in {directory}: {e}")
            continue
        procs = directory / "cgroup.procs"
        return directory, procs if procs.exists() else directory / "tasks"
    pytest.skip("cannot make a cgroup with a CPU quota: " + "; ".join(reasons))


def _remove_cgroup(directory: Path) -> None:
    """rmdir the (empty) cgroup, retrying while the kernel still counts the exited child in it."""
    for _ in range(50):
        try:
            directory.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)
    directory.rmdir()


def test_real_cgroup_quota_limits_a_child():
    env = {key: value for key, value in os.environ.items() if key != ENV_VAR}
    env["PYTHONPATH"] = str(ROOT)
    directory, procs = _make_quota_cgroup()
    try:
        inside = subprocess.run([sys.executable, "-c", PROGRAM, str(procs)], env=env, capture_output=True,
                                text=True, timeout=120, check=False)
    finally:
        _remove_cgroup(directory)
    assert inside.returncode == 0, inside.stderr
    cpus, quota = inside.stdout.split()
    assert cpus == "1"
    assert float(quota) <= 1.0  # 1.0, or less where an ancestor of the new cgroup has a smaller quota

    outside = subprocess.run([sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True,
                             timeout=120, check=False)
    assert outside.returncode == 0, outside.stderr
    # affinity_cpus() where this test's own cgroup has no quota
    assert outside.stdout.split() == [str(cpus_for(affinity_cpus(), cgroup_quota())), str(cgroup_quota())]
