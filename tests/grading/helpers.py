"""Helpers shared by the grading tests: running nbgrader and the course command on a temporary course,
building submissions from the release, reading scores from the gradebook."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
EXERCISES = REPO / "exercises"
CONFIG = REPO / "grading" / "nbgrader_config.py"
ASSIGNMENTS = sorted(p.name for p in EXERCISES.iterdir() if p.is_dir() and (p / f"{p.name}.ipynb").is_file())
SHARED_DATASETS = REPO.parent / "shared" / "datasets"
CLASS_ASSIGNMENT = "02_activation_functions"  # the class cycle grades this one (the fastest to run)
CELL_TIMEOUT = 15  # seconds a cell may run in the test course (the endless loop waits this long)


def source_path(assignment):
    return EXERCISES / assignment / f"{assignment}.ipynb"


def nbgrader_cells(notebook):
    """{grade_id: cell} of the cells that carry nbgrader metadata."""
    return {c.metadata["nbgrader"]["grade_id"]: c for c in notebook.cells if "nbgrader" in c.metadata}


def nbgrader(course, *args, check=True, timeout=600):
    """Run `nbgrader <args>` in the course folder; the CompletedProcess (stdout and stderr together)."""
    env = dict(os.environ)
    if not env.get("TFCORE_DATASETS") and SHARED_DATASETS.is_dir():
        env["TFCORE_DATASETS"] = str(SHARED_DATASETS)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    # nbgrader runs `alembic` (the gradebook's migrations) by name: the environment's bin/ comes first
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    if check and result.returncode != 0:
        pytest.fail(f"nbgrader {' '.join(args)} exited {result.returncode}:\n{result.stdout[-4000:]}")
    return result


def course_command(course, *args, status=0):
    """Run `python -m course <args>` in the course folder (stdout and stderr together); it must exit
    with `status`."""
    python_path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=python_path)
    env.setdefault("TFCORE_DATASETS", str(SHARED_DATASETS))
    result = subprocess.run([sys.executable, "-m", "course", *args], cwd=course, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    assert result.returncode == status, \
        f"course {' '.join(args)} exited {result.returncode}:\n{result.stdout[-4000:]}"
    return result


def make_course(folder):
    """A course folder whose nbgrader_config.py loads the repository's, as grading/README.md shows."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nbgrader_config.py").write_text(
        f"load_subconfig({str(CONFIG)!r})\n"
        f"c.Execute.timeout = {CELL_TIMEOUT}  # the tests' endless loop should not cost a minute\n")
    return folder


def between(source, begin, end):
    """The distinctive lines (stripped, longer than a few characters) between the marker lines that do
    not also appear outside them."""
    inside_lines, outside_lines, inside = [], set(), False
    for line in source.splitlines():
        if line.strip() == begin:
            inside = True
        elif line.strip() == end:
            inside = False
        elif inside:
            inside_lines.append(line.strip())
        else:
            outside_lines.add(line.strip())
    return [line for line in inside_lines if len(line) > 12 and line not in outside_lines]


def submission(released, answers, test_edits):
    """The released notebook with `answers` in the solution cells and `test_edits` applied to test cells
    (None deletes the cell, a string replaces its source)."""
    notebook = nbformat.read(released, as_version=4)
    cells = []
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if answers is not None and grade_id in answers:
            cell.source = answers[grade_id]
        if grade_id in test_edits:
            if test_edits[grade_id] is None:
                continue
            cell.source = test_edits[grade_id]
        cells.append(cell)
    notebook.cells = cells
    return notebook


def scores(course, assignment):
    """{student: {test cell: score}} and {student: total} read from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        per_cell, totals = {}, {}
        for submission in gradebook.assignment_submissions(assignment):
            student = submission.student.id
            totals[student] = submission.score
            per_cell[student] = {grade.name: grade.score for notebook in submission.notebooks
                                 for grade in notebook.grades}
        return per_cell, totals


def regrade(course, assignment, students):
    """The gradebook's per-cell scores before and after regrading `students` (`autograde --force`)."""
    before, _ = scores(course, assignment)
    for student in students:
        nbgrader(course, "autograde", assignment, f"--student={student}", "--force")
    after, _ = scores(course, assignment)
    return before, after
