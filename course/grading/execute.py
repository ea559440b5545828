"""What `grading/nbgrader_config.py` plugs into `nbgrader autograde` so that every submission runs in the
sandbox of `course.grading.sandbox`, through nbgrader's own settings (no fork of nbgrader):

- `SandboxCheckedExporter` (`c.Autograde.exporter_class`): built once when autograde starts, before any
  student; it starts the sandbox once and stops the whole run with `SandboxUnavailable` when it cannot,
  and logs a warning when `c.GradingSandbox.enabled = False`;
- `SandboxedExecute` (in `c.Autograde.autograde_preprocessors`, in place of nbgrader's `Execute`): runs
  the notebook with `SandboxKernelManager`, keeps at most `max_output_bytes` of output per cell, and after
  every cell stops the processes the cell left running (a fork bomb stops with its cell);
- `SandboxKernelManager`: a jupyter_client kernel manager whose kernel spec is the `bwrap` command line,
  talking to the kernel over unix sockets (transport `ipc`) in a folder of its own.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from nbconvert.exporters import NotebookExporter
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Integer, default

from course.grading.sandbox import GradingSandbox

__all__ = ["SandboxCheckedExporter", "SandboxedExecute", "SandboxKernelManager", "autograde_preprocessors"]

_UNSANDBOXED = ("GRADING WITHOUT THE SANDBOX (c.GradingSandbox.enabled = False): every submission's code "
                "runs with your own rights and can read and change the gradebook and the course files.")


def autograde_preprocessors():
    """nbgrader's autograde preprocessors, with `SandboxedExecute` in place of `Execute`."""
    from nbgrader.converters import Autograde

    default_list = Autograde.class_traits()["autograde_preprocessors"].default()
    return [SandboxedExecute if preprocessor is Execute else preprocessor for preprocessor in default_list]


class SandboxCheckedExporter(NotebookExporter):
    """Autograde's exporter (it writes notebooks as nbgrader's default one does). It is created before
    the first student is graded, which makes it the place to check that the sandbox starts."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        sandbox = GradingSandbox(parent=self)
        if not sandbox.enabled:
            self.log.warning(_UNSANDBOXED)
            return
        try:
            sandbox.check()
        except SystemExit as exc:
            self.log.error("%s", exc.code)
            raise
        self.log.info("Grading in the bubblewrap sandbox (memory %d MiB, %d processes, %d CPU s per process)",
                      sandbox.memory_limit // 2**20, sandbox.max_processes, sandbox.cpu_seconds)


class SandboxKernelManager(AsyncKernelManager):
    """Starts the kernel in the grading sandbox: its spec's command is `prlimit ... bwrap ... python -m
    course.grading.workspace ... ipykernel_launcher -f {connection_file}`, and its connection file and
    sockets live in a private folder (the one host folder the sandbox can write)."""

    @default("transport")
    def _transport_default(self):
        return "ipc"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.sandbox = GradingSandbox(parent=self)
        self.kernel_dir = None
        if not self.sandbox.enabled:
            self.transport = "tcp"  # a plain kernel, as nbgrader starts it

    async def _async_pre_start_kernel(self, **kw):
        if not self.sandbox.enabled:
            self.log.warning(_UNSANDBOXED)
            return await super()._async_pre_start_kernel(**kw)
        self.kernel_dir = Path(tempfile.mkdtemp(prefix="course-kernel-"))
        self.connection_file = str(self.kernel_dir / "kernel.json")
        self.ip = str(self.kernel_dir / "ipc")
        submission = Path(kw.get("cwd") or os.getcwd())
        shutil.copytree(submission, self.kernel_dir / "files",
                        ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
        inner = [sys.executable, "-m", "course.grading.workspace", submission.name, "--",
                 sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        argv = self.sandbox.launch_command(self.kernel_dir, submission.name, inner)
        self._kernel_spec = KernelSpec(argv=argv,
                                       display_name="Python 3 (grading sandbox)", language="python",
                                       interrupt_mode="message", env={}, metadata={})
        # the kernel process's own terminal output (not the cells' outputs) goes to a file, at most
        # max_file_size long, so that a submission cannot flood the grader's terminal
        self._terminal = open(self.kernel_dir / "terminal.log", "wb")  # noqa: SIM115 - closed at cleanup
        kw.update(cwd=str(self.kernel_dir), stdout=self._terminal, stderr=self._terminal)
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        kw["env"] = {}  # the sandbox sets the kernel's environment itself (--clearenv, --setenv)
        return kernel_cmd, kw

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        if self.kernel_dir is not None:  # the connection file is written by now
            self.sandbox.hand_over(self.kernel_dir)
        return await super()._async_launch_kernel(kernel_cmd, **kw)

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if self.kernel_dir is not None and not restart:
            self._terminal.close()
            tail = _tail(self.kernel_dir / "terminal.log")
            if "Traceback" in tail or "Error" in tail:
                self.log.warning("The sandboxed kernel's terminal output ended with:\n%s", tail)
            shutil.rmtree(self.kernel_dir, ignore_errors=True)
            self.kernel_dir = None

    def stop_strays(self):
        """Stop every process in the sandbox but the kernel (what the last cell started and left
        running); returns how many were stopped."""
        from course.grading.processes import stop_all_but_kernel

        if self.kernel_dir is None or getattr(self.provisioner, "pid", None) is None:
            return 0
        return stop_all_but_kernel(self.provisioner.pid)


def _tail(path, size=4096):
    """The last `size` bytes of a file, as text."""
    with open(path, "rb") as file:
        file.seek(max(0, file.seek(0, os.SEEK_END) - size))
        return file.read().decode("utf-8", "replace")


class SandboxedExecute(Execute):
    """nbgrader's Execute preprocessor with the sandboxed kernel, a cap on each cell's output, and the
    processes a cell leaves behind stopped after it."""

    max_output_bytes = Integer(1024**2, help="Output kept per cell, in bytes; the rest is dropped with a "
                               "note (a submission that prints gigabytes stays a small notebook).").tag(
                                   config=True)

    def __init__(self, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxKernelManager)
        super().__init__(**kwargs)
        self._output_bytes = {}

    def preprocess(self, nb, resources=None, km=None):
        """Run the notebook (each run counts its cells' output afresh)."""
        self._output_bytes = {}
        return super().preprocess(nb, resources, km=km)

    def on_cell_executed(self, **kwargs):
        """After each cell: nbgrader's error bookkeeping, then stop what the cell left running."""
        super().on_cell_executed(**kwargs)
        if isinstance(self.km, SandboxKernelManager):
            stopped = self.km.stop_strays()
            if stopped:
                self.log.warning("Stopped %d process(es) cell %s left running in the sandbox", stopped,
                                 kwargs.get("cell_index"))

    def output(self, outs, msg, display_id, cell_index):
        """Keep output while the cell's outputs stay under `max_output_bytes` (the stream message that
        crosses the limit is cut there), then one note."""
        size = _message_size(msg)
        used = self._output_bytes.get(cell_index, 0)
        self._output_bytes[cell_index] = used + size
        if used + size <= self.max_output_bytes:
            return super().output(outs, msg, display_id, cell_index)
        if used > self.max_output_bytes:
            return None
        out = None
        if "text" in msg.get("content", {}):
            text = msg["content"]["text"][:self.max_output_bytes - used]
            cut = dict(msg, content=dict(msg["content"], text=text))
            out = super().output(outs, cut, display_id, cell_index)
        note = (f"\n[the grader kept the first {self.max_output_bytes // 1024} KiB of this cell's output and "
                "dropped the rest]\n")
        outs.append(new_output("stream", name="stderr", text=note))
        self._output_bytes[cell_index] = self.max_output_bytes + 1
        return out


def _message_size(msg):
    """Bytes of text an output message carries (stream text, or every value of its data)."""
    content = msg.get("content", {})
    if "text" in content:
        return len(content["text"])
    values = [*content.get("data", {}).values(), *content.get("traceback", [])]
    return sum(len(value) if isinstance(value, str) else len(str(value)) for value in values)

