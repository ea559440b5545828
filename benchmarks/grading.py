"""The grading sandbox's cost: seconds per notebook of `nbgrader autograde`, with and without it.

    .venv/bin/python -m benchmarks.grading [--students N] [--assignment ID]

Builds a temporary course (as grading/README.md shows), hands in N copies of the assignment's source
notebook with its solutions (the answers of an honest class), and autogrades the class twice: with the
default configuration (every kernel in the bubblewrap sandbox) and with `c.GradingSandbox.enabled =
False`. Prints both times and the difference per notebook; grading/README.md quotes the result.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent


def _nbgrader(course, *args):
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    env.setdefault("TFCORE_DATASETS", str(REPO.parent / "shared" / "datasets"))
    subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def grade_class(folder, assignment, students, sandboxed):
    """Seconds `nbgrader autograde` takes for `students` copies of the solved source notebook."""
    course = Path(folder) / ("sandboxed" if sandboxed else "unsandboxed")
    course.mkdir()
    config = f"load_subconfig({str(REPO / 'grading' / 'nbgrader_config.py')!r})\n"
    if not sandboxed:
        config += "c.GradingSandbox.enabled = False\n"
    (course / "nbgrader_config.py").write_text(config)
    _nbgrader(course, "generate_assignment", assignment)
    source = nbformat.read(REPO / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    for index in range(students):
        folder = course / "submitted" / f"student{index}" / assignment
        folder.mkdir(parents=True)
        nbformat.write(source, folder / f"{assignment}.ipynb")
    started = time.perf_counter()
    _nbgrader(course, "autograde", assignment)
    return time.perf_counter() - started


def main(argv=None):
    """Grade the class both ways and print seconds per notebook."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--assignment", default="02_activation_functions")
    args = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="grading-bench-")
    try:
        times = {mode: grade_class(folder, args.assignment, args.students, mode) for mode in (True, False)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    per = {mode: seconds / args.students for mode, seconds in times.items()}
    print(f"{args.assignment}, {args.students} notebooks: sandboxed {times[True]:.1f} s "
          f"({per[True]:.2f} s per notebook), unsandboxed {times[False]:.1f} s ({per[False]:.2f} s per "
          f"notebook): the sandbox adds {per[True] - per[False]:.2f} s per notebook")


if __name__ == "__main__":
    main()
