"""The syllabus, and a headless runner for the lesson notebooks (what `course run` and the tests use).

    from course import lessons
    for lesson in lessons.SYLLABUS:
        print(lesson.tag, lesson.title, lesson.status())
    run = lessons.run_lesson("lessons/01_tensors_graphs_sessions.ipynb", "runs/executed", fast=True)
    print(run.seconds, run.output)

`run_lesson` executes a notebook with nbclient in a fresh ``python3`` kernel whose working folder is the
notebook's folder, passes the course's switches through the environment (``COURSE_ENGINE``,
``COURSE_FAST``, ``COURSE_FIGURE_LOG``, ``COURSE_REPORT_FILE``, ``COURSE_LESSON``), writes the executed
copy into another folder and never touches the source notebook. The last part of this module turns the
results lessons report (`course.report`) into the table in ``lessons/README.md`` (`course results`); the
reports, the machine and the README markers are handled in `course.results` (re-exported here).
"""

import datetime
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from course.results import (
    LESSON_SECONDS,
    fill_measured,
    format_value,
    machine_info,
    read_reports,
    replace_results,
    update_measured,
    update_readme,
)

# the README markers, re-exported (`lessons.RESULTS_START`, as the CLI and the tests use them)
from course.results import RESULTS_END as RESULTS_END
from course.results import RESULTS_START as RESULTS_START

__all__ = [
    "REPO_ROOT",
    "LESSONS_DIR",
    "EXECUTED_DIR",
    "Lesson",
    "SYLLABUS",
    "LessonError",
    "LessonRun",
    "lesson_files",
    "lesson_for",
    "find_lesson",
    "run_lesson",
    "stream_problems",
    "strip_progress",
    "read_reports",
    "machine_info",
    "results_table",
    "replace_results",
    "update_readme",
    "measured_values",
    "fill_measured",
    "update_measured",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
LESSONS_DIR = REPO_ROOT / "lessons"
EXECUTED_DIR = REPO_ROOT / "runs" / "executed"
"""Where `course run` writes executed copies (``runs/`` is git-ignored)."""

DEFAULT_CELL_TIMEOUT = 3600
"""Seconds one cell may run before the run is stopped (a full-mode training cell takes minutes)."""


@dataclass(frozen=True)
class Lesson:
    """One lesson of the syllabus: its number, title and notebook file name in ``lessons/``."""

    number: int
    title: str
    notebook: str

    @property
    def tag(self):
        """The two-digit number that starts the notebook's name: ``"05"``."""
        return f"{self.number:02d}"

    def path(self, lessons_dir=None):
        """The notebook's path if it exists (also any ``NN_*.ipynb`` of this number), else None."""
        folder = Path(lessons_dir) if lessons_dir is not None else LESSONS_DIR
        if (folder / self.notebook).is_file():
            return folder / self.notebook
        matches = sorted(folder.glob(f"{self.tag}_*.ipynb"))
        return matches[0] if matches else None

    def status(self, lessons_dir=None):
        """``"available"`` (the notebook is there) or ``"missing"`` (in the syllabus, but its notebook
        is not in the folder)."""
        return "available" if self.path(lessons_dir) is not None else "missing"


SYLLABUS = (
    Lesson(1, "Tensors, graphs and sessions", "01_tensors_graphs_sessions.ipynb"),
    Lesson(2, "Activation functions", "02_activation_functions.ipynb"),
    Lesson(3, "Loss functions", "03_loss_functions.ipynb"),
    Lesson(4, "Gradient descent and linear regression", "04_gradient_descent.ipynb"),
    Lesson(5, "MNIST with a fully connected network", "05_mnist_fully_connected.ipynb"),
    Lesson(6, "Convolutions and pooling", "06_convolutions_pooling.ipynb"),
    Lesson(7, "LeNet-5", "07_lenet5.ipynb"),
    Lesson(8, "Neural style transfer (Gatys et al., VGG19)", "08_neural_style.ipynb"),
    Lesson(9, "Fast (feed-forward) style transfer", "09_fast_style_transfer.ipynb"),
    Lesson(10, "Inside the engine: autodiff, the plan, a per-op profile", "10_inside_the_engine.ipynb"),
)
"""The lessons in order."""


def lesson_files(lessons_dir=None):
    """Every lesson notebook in the folder (``NN_*.ipynb``), sorted."""
    folder = Path(lessons_dir) if lessons_dir is not None else LESSONS_DIR
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def lesson_for(path):
    """The syllabus entry of a notebook path (by its number prefix), or None."""
    match = re.match(r"^(\d\d)_", Path(path).name)
    if not match:
        return None
    return next((lesson for lesson in SYLLABUS if lesson.number == int(match.group(1))), None)


def find_lesson(spec, lessons_dir=None):
    """The notebook path for `spec`: a lesson number (``5``, ``"05"``), a notebook name or stem
    (``"07_lenet5"``), a unique part of a name (``"lenet"``), or a path to any ``.ipynb`` file.

    Raises `LookupError` saying what was looked for and what exists.
    """
    folder = Path(lessons_dir) if lessons_dir is not None else LESSONS_DIR
    text = str(spec).strip()
    as_path = Path(text).expanduser()
    if text.endswith(".ipynb") and as_path.is_file():
        return as_path.resolve()
    if text.isdigit():
        lesson = next((entry for entry in SYLLABUS if entry.number == int(text)), None)
        if lesson is None:
            raise LookupError(f"there is no lesson {text}; the syllabus has lessons "
                              f"{', '.join(entry.tag for entry in SYLLABUS)} (see `course list`)")
        path = lesson.path(folder)
        if path is None:
            raise LookupError(f"lesson {lesson.tag} ({lesson.title}) has no notebook in {folder}")
        return path.resolve()
    files = lesson_files(folder)
    exact = [f for f in files if text in (f.name, f.stem)]
    if exact:
        return exact[0].resolve()
    partial = [f for f in files if text.lower() in f.name.lower()]
    if len(partial) == 1:
        return partial[0].resolve()
    if len(partial) > 1:
        raise LookupError(f"{text!r} matches several lessons: {', '.join(f.name for f in partial)}")
    raise LookupError(f"no lesson matches {text!r} in {folder} (see `course list`)")


# ---------------------------------------------------------------------------------------------------
# Running a lesson


class LessonError(RuntimeError):
    """A lesson failed while running: names the lesson, the cell (its number and first lines) and the
    error. `output` is the executed copy (with the error in it), when one was written."""

    def __init__(self, lesson, cell_index, source_start, error, output=None, seconds=None):
        self.lesson = lesson
        self.cell_index = cell_index
        self.source_start = source_start
        self.error = error
        self.output = output
        self.seconds = seconds
        where = f"in cell {cell_index + 1}" if cell_index is not None else "before its first cell"
        message = f"lesson {lesson} failed {where}"
        if source_start:
            message += ":\n" + "\n".join("    " + line for line in source_start.splitlines())
        message += f"\n{error}"
        if output is not None:
            message += f"\n(the executed copy with the error: {output})"
        super().__init__(message)


@dataclass
class LessonRun:
    """The result of `run_lesson`: the executed notebook, where it was written, how long it took, and
    what its outputs hold that a clean run should not (allowed error outputs, stderr text)."""

    lesson: str
    source: Path
    output: Path
    notebook: object
    seconds: float
    engine: str
    fast: bool
    errors: list = field(default_factory=list)
    """Error outputs that did not stop the run (cells tagged ``raises-exception``): dicts with
    cell_index, ename, evalue, source_start."""
    problems: list = field(default_factory=list)
    """Warnings and tracebacks printed by the lesson (`stream_problems`)."""


def _source_start(source, lines=3, width=100):
    """The first non-empty lines of a cell's source, each cut to `width` characters."""
    kept = [line.rstrip() for line in str(source).splitlines() if line.strip()][:lines]
    return "\n".join(line if len(line) <= width else line[:width - 1] + "…" for line in kept)


def _lesson_environment(path, engine, fast, figure_log, report_file):
    env = dict(os.environ)
    if engine is not None:
        env["COURSE_ENGINE"] = engine
    if fast is not None:
        env["COURSE_FAST"] = "1" if fast else "0"
    for name, value in (("COURSE_FIGURE_LOG", figure_log), ("COURSE_REPORT_FILE", report_file)):
        if value is not None:
            env[name] = os.fspath(Path(value).resolve())
    env["COURSE_LESSON"] = Path(path).stem
    # the kernel picks Jupyter's inline backend only when no other backend is forced
    env.pop("MPLBACKEND", None)
    # ipykernel stops copying what C code writes to file descriptors 1 and 2 (TensorFlow's log) into
    # the notebook when it sees this pytest variable; a student's kernel does copy it, so the tests too
    env.pop("PYTEST_CURRENT_TEST", None)
    # lessons import `course` from this checkout, even if it is not installed
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    return env


def _output_path(source, output_dir):
    """Where the executed copy of `source` goes in `output_dir` (created); never `source` itself."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    output = (output_dir / source.name).resolve()
    if output == source:
        raise ValueError(f"the executed copy of {source.name} would overwrite the lesson itself; choose "
                         f"another output folder than {output_dir}")
    return output


def _execute(client, env, timeout):
    """Run every cell of the client's notebook in a kernel with environment `env`: None when all ran,
    else what went wrong (the error of the failing cell, a timeout, or the kernel's death)."""
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        return f"{exc.ename}: {exc.evalue}"
    except CellTimeoutError:
        return f"the cell ran longer than the limit of {timeout} s per cell (timeout)"
    except DeadKernelError as exc:
        return f"the kernel died ({exc})"
    return None


def _error_outputs(notebook):
    """The error outputs left in an executed notebook (cells allowed to raise): `LessonRun.errors`."""
    return [
        {"cell_index": i, "ename": out.get("ename", ""), "evalue": out.get("evalue", ""),
         "source_start": _source_start(cell.source)}
        for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"
        for out in cell.get("outputs", []) if out.get("output_type") == "error"
    ]


def run_lesson(path, output_dir, engine=None, fast=None, timeout=DEFAULT_CELL_TIMEOUT, figure_log=None,
               report_file=None, kernel_name="python3", on_cell=None, cwd=None):
    """Execute the notebook at `path` headless and write the executed copy into `output_dir`.

    `engine` ("tfcore"/"tensorflow") and `fast` (bool) set ``COURSE_ENGINE``/``COURSE_FAST`` for the
    kernel (None: inherit this process's environment); `figure_log` and `report_file` set
    ``COURSE_FIGURE_LOG`` and ``COURSE_REPORT_FILE``. `timeout` is the limit per cell in seconds (None:
    none). `on_cell(index, count)` is called as each cell starts (progress bars). The kernel runs in the
    notebook's folder, as in JupyterLab, or in `cwd` (the tests give each run a folder of its own, so
    that checkpoints a lesson writes do not meet those of a run beside it).

    Returns a `LessonRun`. Raises `LessonError` (naming the lesson, the failing cell and the error)
    when a cell raises, times out or the kernel dies; the executed copy is written in either case.
    The source notebook is never written.
    """
    import nbformat
    from nbclient import NotebookClient

    source = Path(path).resolve()
    output = _output_path(source, output_dir)
    notebook = nbformat.read(source, as_version=4)
    env = _lesson_environment(source, engine, fast, figure_log, report_file)
    current = {"index": None}
    total = len(notebook.cells)

    def cell_started(cell, cell_index, **_):
        current["index"] = cell_index
        if on_cell is not None:
            on_cell(cell_index, total)

    client = NotebookClient(notebook, timeout=timeout, kernel_name=kernel_name, allow_errors=False,
                            extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no TCP notice
                            resources={"metadata": {"path": str(Path(cwd or source.parent).resolve())}},
                            on_cell_start=cell_started)
    started = time.perf_counter()
    failure = _execute(client, env, timeout)
    seconds = time.perf_counter() - started
    nbformat.write(notebook, output)
    if failure is not None:
        index = current["index"]
        start = _source_start(notebook.cells[index].source) if index is not None else ""
        raise LessonError(source.name, index, start, failure, output=output, seconds=seconds)
    return LessonRun(
        lesson=source.name, source=source, output=output, notebook=notebook, seconds=seconds,
        engine=env.get("COURSE_ENGINE", "tfcore") or "tfcore",
        fast=env.get("COURSE_FAST", "0").strip() not in ("", "0", "false", "no"),
        errors=_error_outputs(notebook), problems=stream_problems(notebook))


_PROGRESS_BAR = re.compile(r"\d+%\|.*\||\|\s*\d+/\d+\s*\[|\d(?:\.\d+)?\s*(?:it|s)/(?:s|it)\]|\[\d+:\d\d<")
_STDERR_PROBLEM = re.compile(r"warning|traceback", re.IGNORECASE)
# what a logger or the warnings module prints to stdout: "WARNING:tensorflow:...", "...Warning: ..."
_STDOUT_PROBLEM = re.compile(r"^(?:WARNING|ERROR|CRITICAL)\b[:\s]|\w*Warning: |^Traceback \(most recent",
                             re.MULTILINE)


def strip_progress(text):
    """`text` without progress-bar output (tqdm's lines, each redrawn after a carriage return)."""
    pieces = re.split(r"[\r\n]", text)
    return "\n".join(p for p in pieces if p.strip() and not _PROGRESS_BAR.search(p))


def stream_problems(notebook):
    """What an executed notebook printed that a clean lesson must not: stderr text containing
    "warning" or "Traceback" (progress bars left out), and warnings a logger printed to stdout
    (``WARNING:tensorflow:...``, ``...Warning: ...``). One message per output, naming the cell."""
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") != "stream":
                continue
            text = strip_progress(out.get("text", ""))
            name = out.get("name")
            bad = (_STDERR_PROBLEM.search(text) if name == "stderr" else _STDOUT_PROBLEM.search(text))
            if bad:
                snippet = text.strip()
                snippet = snippet if len(snippet) <= 600 else snippet[:600] + " …"
                problems.append(f"cell {index + 1} ({_source_start(cell.source, lines=1)!r}) printed to "
                                f"{name}:\n{snippet}")
    return problems


# ---------------------------------------------------------------------------------------------------
# Results: what lessons report, the machine, the table in lessons/README.md


def measured_values(results):
    """{(lesson tag, name): value} for the measured spans of the lessons' text (`update_measured`):
    every report of `results` (as `results_table` takes them), and each lesson's whole run time as
    ``LESSON_SECONDS``."""
    values = {}
    for name, seconds, reports in results:
        tag = Path(name).name[:2]
        values[(tag, LESSON_SECONDS)] = seconds
        values.update({(tag, r["name"]): r["value"] for r in reports})
    return values


def results_table(results, machine, date=None, fast=False):
    """The markdown that goes between the results markers of ``lessons/README.md``.

    `results`: a list of (lesson file name, seconds the whole lesson took, [report dicts]). `machine`:
    `machine_info`. `date`: a `datetime.date` (today by default).
    """
    date = date or datetime.date.today()
    mode = "fast mode (`COURSE_FAST=1`)" if fast else "full mode"
    lines = [
        f"Measured on {date.isoformat()} by `course results` in {mode} on {machine['cpus']} CPU cores "
        f"({machine['cpu_model']}), Python {machine['python']}, NumPy {machine['numpy']}, engine "
        f"{machine['engine']}.",
        "",
        "| Lesson | Result | Value |",
        "|---|---|---|",
    ]
    for name, seconds, reports in results:
        lesson = lesson_for(name)
        label = f"[{lesson.tag} {lesson.title}]({name})" if lesson else f"[{Path(name).stem}]({name})"
        rows = [(r["name"], format_value(r["name"], r["value"])) for r in reports]
        rows.append(("lesson run time (every cell)", format_value("seconds", seconds)))
        for i, (metric, value) in enumerate(rows):
            lines.append(f"| {label if i == 0 else ''} | {metric} | {value} |")
    return "\n".join(lines)
