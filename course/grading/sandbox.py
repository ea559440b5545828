"""The sandbox a graded notebook's kernel runs in, built with bubblewrap (`bwrap`).

Inside the sandbox a submission sees:

- the system (`/usr`, `/etc` and the merged-/usr links) and the course's Python (its prefix, the
  base interpreter, the `tfcore` and `course` packages, the data folders), all read-only;
- a private home on a size-limited tmpfs, holding a copy of the submission's extra files (never the
  notebook: its cells reach the kernel over the kernel protocol) as its working directory;
- a private `/tmp` and `/dev/shm`, a private `/proc` (its own process namespace) and no network;
- the one folder holding the kernel's connection file and its unix sockets (the kernel protocol's
  transport is `ipc`, so the grader and the kernel talk without a network).

Nothing else of the machine: not the gradebook, the course's `source/`, `release/`, `submitted/`,
`autograded/`, `feedback/` or exchange, not the instructor's home, not the checkout's `exercises/`.

Limits (`prlimit`, inherited by everything the kernel starts): address space per process
(`memory_limit`), processes and threads (`max_processes`), CPU seconds per process (`cpu_seconds`),
size of one written file (`max_file_size`). When grading runs as root the kernel runs as the
unprivileged user `user` (default `nobody`); otherwise as the instructor's own user, confined by the
namespaces.

Every option is a traitlets setting of `GradingSandbox`, e.g. in `nbgrader_config.py`:
`c.GradingSandbox.memory_limit = 4 * 1024**3`. `c.GradingSandbox.enabled = False` grades without
the sandbox (student code then runs with your rights; the log says so).
"""

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from traitlets import Bool, Integer, Unicode
from traitlets.config import LoggingConfigurable

__all__ = ["GradingSandbox", "SandboxUnavailable", "HOME", "SUBMISSION_FILES"]

HOME = "/home/student"  # the submission's home inside the sandbox; its work folder is below it
SUBMISSION_FILES = "/run/submission"  # the staged extra files, read-only, copied into the work folder
_MERGED_USR = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
_PASSED_ENV = ("NBGRADER_EXECUTION", "COURSE_FAST", "COURSE_ENGINE", "TFCORE_DATASETS", "LANG", "LC_ALL",
               "TZ", "PYTHONHASHSEED", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
               "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_FIXES = """How to fix it:
- install bubblewrap: `apt-get install bubblewrap` (Debian/Ubuntu) or `dnf install bubblewrap`;
- allow unprivileged user namespaces: `sysctl kernel.unprivileged_userns_clone=1` (Debian) and
  `sysctl user.max_user_namespaces=15000`; on Ubuntu 23.10 and later also
  `sysctl kernel.apparmor_restrict_unprivileged_userns=0` (or an AppArmor profile that allows bwrap);
- in a container, run it with user namespaces allowed (e.g. docker's default seccomp profile blocks them:
  `--security-opt seccomp=unconfined`).
To grade WITHOUT the sandbox (student code then runs with your rights), set
`c.GradingSandbox.enabled = False` in nbgrader_config.py (grading/README.md)."""


class SandboxUnavailable(SystemExit):
    """The sandbox cannot start here: grading stops before any student (the message names the cause
    and the fix). A SystemExit, so that nbgrader's per-student `except Exception` does not swallow it."""


class GradingSandbox(LoggingConfigurable):
    """The settings of the grading sandbox, and the `bwrap` command line they make."""

    enabled = Bool(True, help="Run every graded notebook's kernel in the sandbox. False grades without "
                   "it: student code then runs with your rights.").tag(config=True)
    bwrap = Unicode("bwrap", help="The bubblewrap executable.").tag(config=True)
    user = Unicode("nobody", help="The unprivileged user kernels run as when grading runs as root.").tag(
        config=True)
    memory_limit = Integer(2 * 1024**3, help="Address space of each process in the sandbox, in bytes.").tag(
        config=True)
    max_processes = Integer(128, help="Processes and threads the sandbox may have at once.").tag(config=True)
    cpu_seconds = Integer(900, help="CPU seconds each process in the sandbox may use.").tag(config=True)
    max_file_size = Integer(256 * 1024**2, help="Largest file the sandbox may write, in bytes.").tag(
        config=True)
    workspace_size = Integer(512 * 1024**2, help="Size of the private home (the work folder), of /tmp and "
                             "of /dev/shm, each a tmpfs, in bytes.").tag(config=True)

    # -----------------------------------------------------------------------------------------------
    # Who runs the kernel, and with which limits

    def sandbox_user(self):
        """(uid, gid) the sandboxed kernel runs as: `user` when running as root, else ourselves."""
        if os.geteuid() != 0:
            return os.geteuid(), os.getegid()
        try:
            entry = pwd.getpwnam(self.user)
        except KeyError:
            raise SandboxUnavailable(f"The grading sandbox's user {self.user!r} does not exist: create it "
                                     f"(`useradd --system --no-create-home {self.user}`) or set "
                                     "c.GradingSandbox.user to an unprivileged user.") from None
        if entry.pw_uid == 0:
            raise SandboxUnavailable(f"c.GradingSandbox.user = {self.user!r} is root: name an unprivileged "
                                     "user.")
        return entry.pw_uid, entry.pw_gid

    def limits(self, uid):
        """The `prlimit` command that starts the sandbox with its resource limits. The process limit
        counts every process of `uid`, so for a non-root instructor (whose own processes count too) it
        is added to the ones running now."""
        processes = self.max_processes
        if uid != 0 and uid == os.geteuid():
            processes += _threads_of(uid)
        return [shutil.which("prlimit") or "prlimit", f"--as={self.memory_limit}", f"--nproc={processes}",
                f"--cpu={self.cpu_seconds}", f"--fsize={self.max_file_size}", "--core=0", "--"]

    # -----------------------------------------------------------------------------------------------
    # The command line

    def read_only_paths(self):
        """The host folders bound read-only (besides the system): the course's Python and packages and
        the data folders, each once (a folder inside another bound one is left out)."""
        import course
        import tfcore
        from tfcore.datasets import registry

        paths = [Path(sys.base_prefix), Path(sys.prefix), Path(tfcore.__file__).parent,
                 Path(course.__file__).parent, registry.datasets_dir(), registry.cache_dir()]
        paths = sorted({p.resolve() for p in paths if p is not None and p.is_dir()})
        system = [Path("/usr"), Path("/etc")]
        kept = []
        for path in paths:
            if not any(path == other or other in path.parents for other in [*system, *kept]):
                kept.append(path)
        return kept

    def command(self, kernel_dir, work_name, inner_argv):
        """The bwrap command that runs `inner_argv` in the sandbox. `kernel_dir` (connection file and
        sockets) is bound read-write at its own path, `kernel_dir/files` read-only at SUBMISSION_FILES;
        the work folder is HOME/work_name.

        Run by a user, bwrap makes an unprivileged user namespace and everything runs as that user.
        Run by root, it makes no user namespace (so it can bind folders only root may walk to, such as
        a Python under /root) and `setpriv` then becomes `user`, with no capabilities left, before the
        kernel starts: the student's code is never root, and the process limit counts `user`."""
        uid, gid = self.sandbox_user()
        namespaces = ["--unshare-all"]
        if os.geteuid() == 0:
            namespaces = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                          "--unshare-cgroup-try", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
            inner_argv = [shutil.which("setpriv") or "setpriv", f"--reuid={uid}", f"--regid={gid}",
                          "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
                          *inner_argv]
        argv = [shutil.which(self.bwrap) or self.bwrap, *namespaces, "--die-with-parent", "--new-session",
                "--hostname", "sandbox", "--clearenv",
                "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
        for name in _MERGED_USR:
            path = Path("/", name)
            if path.is_symlink():
                argv += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                argv += ["--ro-bind", str(path), str(path)]
        for path in self.read_only_paths():
            argv += ["--ro-bind", str(path), str(path)]
        size = str(self.workspace_size)
        argv += ["--proc", "/proc", "--dev", "/dev", "--size", size, "--tmpfs", "/tmp",
                 "--size", size, "--tmpfs", "/dev/shm", "--size", size, "--tmpfs", HOME,
                 "--bind", str(kernel_dir), str(kernel_dir),
                 "--ro-bind", str(Path(kernel_dir) / "files"), SUBMISSION_FILES]
        mounts = [Path(p) for p in ["/usr", "/etc", "/tmp", "/dev", HOME, kernel_dir, SUBMISSION_FILES,
                                    *self.read_only_paths()]]
        for folder in _created_parents(mounts):  # bwrap makes them 0700: let the user walk through
            argv += ["--chmod", "0755", str(folder)]
        if os.geteuid() == 0:  # the tmpfs mounts belong to root: hand the writable ones to the user
            argv += ["--chmod", "1777", "/tmp", "--chmod", "1777", "/dev/shm", "--chmod", "1777", HOME]
        argv += ["--remount-ro", "/", "--chdir", HOME]
        for name, value in self.environment(work_name).items():
            argv += ["--setenv", name, value]
        return [*argv, "--", *inner_argv]

    def launch_command(self, kernel_dir, work_name, inner_argv):
        """The whole command line: `prlimit` with the limits, then `command`'s bwrap."""
        uid, _ = self.sandbox_user()
        return [*self.limits(uid), *self.command(kernel_dir, work_name, inner_argv)]

    def hand_over(self, kernel_dir):
        """When we are root, give `kernel_dir` and everything in it to the sandbox user (its kernel
        reads the connection file and makes its sockets there)."""
        if os.geteuid() == 0:
            uid, gid = self.sandbox_user()
            for path in [Path(kernel_dir), *Path(kernel_dir).rglob("*")]:
                os.chown(path, uid, gid, follow_symlinks=False)

    def environment(self, work_name):
        """The kernel's environment: a few course and locale variables of ours, and its own home."""
        from tfcore.datasets import registry

        env = {name: os.environ[name] for name in _PASSED_ENV if name in os.environ}
        env.update(HOME=HOME, USER="student", LOGNAME="student", TMPDIR="/tmp", SHELL="/bin/sh",
                   PATH=os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin",
                                         "/bin"]),
                   MPLCONFIGDIR="/tmp/matplotlib", MPLBACKEND="agg", PYTHONDONTWRITEBYTECODE="1",
                   TFCORE_CACHE=str(registry.cache_dir().resolve()), COURSE_SANDBOX=work_name)
        env.setdefault("LANG", "C.UTF-8")
        return env

    # -----------------------------------------------------------------------------------------------
    # Does it start here?

    def check(self):
        """Start the sandbox once (as a kernel would, running `python -c ...`); raise SandboxUnavailable
        naming the cause and the fix when it cannot start."""
        if shutil.which(self.bwrap) is None:
            raise SandboxUnavailable(f"The grading sandbox cannot start: bubblewrap ({self.bwrap!r}) is not "
                                     f"installed, so no submission is graded.\n{_FIXES}")
        with tempfile.TemporaryDirectory(prefix="course-sandbox-check-") as kernel_dir:
            (Path(kernel_dir) / "files").mkdir()
            self.hand_over(kernel_dir)
            probe = "import os, socket; os.getcwd(); print(len(socket.if_nameindex()))"
            argv = self.launch_command(kernel_dir, "check", [sys.executable, "-c", probe])
            result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise SandboxUnavailable("The grading sandbox cannot start, so no submission is graded. "
                                     f"`bwrap` said:\n  {result.stderr.strip() or result.returncode}\n"
                                     f"{_FIXES}")


def _created_parents(mounts):
    """The folders bwrap creates to hold the mount points `mounts` (parents that are not themselves
    inside a mount), outermost first."""
    parents = {parent for mount in mounts for parent in mount.parents if parent != Path("/")}
    inside = {p for p in parents if any(p == m or m in p.parents for m in mounts)}
    return sorted(parents - inside, key=lambda p: len(p.parts))


def _threads_of(uid):
    """How many processes and threads `uid` runs now (what RLIMIT_NPROC counts)."""
    import psutil

    count = 0
    for process in psutil.process_iter(["uids", "num_threads"]):
        uids = process.info["uids"]
        if uids is not None and uids.real == uid:
            count += process.info["num_threads"] or 1
    return count
