"""The one grading step nbgrader has no command for: finishing an interrupted `nbgrader autograde`.

    course grading resume ASSIGNMENT [--course-dir DIR]

`nbgrader autograde` skips every student who already has a folder in `autograded/`. When a run is
killed (or the machine restarts) while it grades a student, that student's folder exists but holds only
the sanitised, never executed copy of the notebook, and the gradebook holds the partial grades of the
interrupted run; a plain second run skips the student and keeps them. `resume` finds such folders (a
notebook missing, unreadable, or with no executed code cell), removes them, and runs
`nbgrader autograde ASSIGNMENT`, which grades those students and every one not graded yet, and leaves
the finished ones as they are. (`nbgrader autograde --force` also works; it regrades the whole class.)
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

__all__ = ["unfinished", "resume"]


def _finished(notebook_path):
    """True when the autograded notebook was written after its execution (a code cell has run)."""
    try:
        notebook = nbformat.read(notebook_path, as_version=4)
    except Exception:  # a half-written or foreign file, whatever the error reading it: not finished
        return False
    return any(cell.cell_type == "code" and cell.get("execution_count") is not None
               for cell in notebook.cells)


def unfinished(course_dir, assignment):
    """Students of `assignment` whose folder in `course_dir/autograded/` is an interrupted run's, sorted.

    Raises FileNotFoundError naming the folder when the assignment has no release (wrong course folder
    or assignment name), so a typo is not taken for "nothing to resume".
    """
    course_dir = Path(course_dir)
    released = course_dir / "release" / assignment
    if not released.is_dir():
        raise FileNotFoundError(f"{released} does not exist: is {course_dir} the course folder, and "
                                f"{assignment!r} a generated assignment?")
    notebooks = sorted(p.name for p in released.glob("*.ipynb"))
    students = []
    for folder in sorted((course_dir / "autograded").glob(f"*/{assignment}")):
        if not all(_finished(folder / name) for name in notebooks):
            students.append(folder.parent.name)
    return students


def resume(course_dir, assignment, nbgrader_args=(), echo=print):
    """Remove the interrupted students' autograded folders and run `nbgrader autograde` again in
    `course_dir`; returns nbgrader's exit status: 0 even when students' cells fail, 1 when a submission
    could not be graded at all (a file that is not a notebook: nbgrader logs an ERROR naming it)."""
    course_dir = Path(course_dir)
    students = unfinished(course_dir, assignment)
    for student in students:
        echo(f"{student}: the last autograde of {assignment} was interrupted; grading again")
        shutil.rmtree(course_dir / "autograded" / student / assignment)
    if not students:
        echo(f"no interrupted grading of {assignment}; grading the students not graded yet")
    command = [sys.executable, "-m", "nbgrader", "autograde", assignment, *nbgrader_args]
    # nbgrader runs `alembic` by name: this environment's bin/ comes first on PATH
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = dict(os.environ, PATH=path)
    return subprocess.run(command, cwd=course_dir, env=env).returncode
