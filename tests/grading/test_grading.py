"""The nbgrader pipeline, with the real `nbgrader` commands on a temporary course (no JupyterHub).

- every source assignment in exercises/ is well formed (points add up, solutions and hidden tests inside
  their markers, stored clean) and validates with its solutions (`nbgrader validate`);
- the released versions hold no solution and no hidden test;
- a class of sample submissions to one assignment goes through the whole cycle: zip_collect (LMS
  downloads) and release/fetch/submit/collect (the exchange), autograde, feedback, export; the scores
  are read from the gradebook (autograde exits 0 even when cells fail, so its exit code proves nothing);
- killing autograde in the middle leaves the gradebook readable and a second run completes the class;
  grading the same submission twice gives the same score.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from course import grading
from tests.grading.helpers import (
    ASSIGNMENTS,
    CLASS_ASSIGNMENT,
    SHARED_DATASETS,
    between,
    course_command,
    make_course,
    nbgrader,
    nbgrader_cells,
    regrade,
    scores,
    source_path,
    submission,
)

# ---------------------------------------------------------------------------------------------------
# The sources


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_is_well_formed(assignment):
    notebook = nbformat.read(source_path(assignment), as_version=4)
    nbformat.validate(notebook)
    cells = nbgrader_cells(notebook)
    tests = [c for c in cells.values() if c.metadata["nbgrader"]["grade"]]
    solutions = [c for c in cells.values() if c.metadata["nbgrader"]["solution"]]
    assert sum(c.metadata["nbgrader"]["points"] for c in tests) == 10, "every assignment is worth 10 points"
    assert all(c.metadata["nbgrader"]["locked"] for c in tests), "test cells must be read-only"
    assert solutions and all("### BEGIN SOLUTION" in c.source and "### END SOLUTION" in c.source
                             for c in solutions)
    assert any("### BEGIN HIDDEN TESTS" in c.source for c in tests), "some tests must be hidden"
    for cell in tests:
        assert "### BEGIN HIDDEN TESTS" in cell.source or cell.source.count("assert") + \
            cell.source.count("check_") >= 1, f"{cell.metadata['nbgrader']['grade_id']} tests nothing"
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# Exercise"), "a title comes first"
    assert "Points:" in first.source, "the instructions state the points"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_validates_with_its_solutions(assignment, tmp_path):
    course = make_course(tmp_path / "course")
    started = time.perf_counter()
    result = nbgrader(course, "validate", str(source_path(assignment)))
    seconds = time.perf_counter() - started
    print(f"{assignment}: validated in {seconds:.1f} s")
    assert "Success! Your notebook passes all the tests." in result.stdout, result.stdout[-4000:]
    assert seconds < 60, f"{assignment} took {seconds:.0f} s to run with its solutions (limit: 60 s)"


@pytest.mark.slow
def test_release_holds_no_solution_and_no_hidden_test(tmp_path):
    course = make_course(tmp_path / "course")
    nbgrader(course, "generate_assignment", "*")  # all of them in one run (as grading/README.md shows)
    for assignment in ASSIGNMENTS:
        source = nbformat.read(source_path(assignment), as_version=4)
        released = nbformat.read(course / "release" / assignment / f"{assignment}.ipynb", as_version=4)
        text = "\n".join(c.source for c in released.cells)
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in text, f"{assignment}: the release still contains '{marker}'"
        released_cells = nbgrader_cells(released)
        assert set(released_cells) == set(nbgrader_cells(source)), f"{assignment}: cells lost in the release"
        for grade_id, cell in nbgrader_cells(source).items():
            meta = cell.metadata["nbgrader"]
            if meta["solution"]:
                answer = between(cell.source, "### BEGIN SOLUTION", "### END SOLUTION")
                for line in answer:
                    assert line not in released_cells[grade_id].source, \
                        f"{assignment}/{grade_id}: the release shows the solution line {line!r}"
                assert "raise NotImplementedError()" in released_cells[grade_id].source
            if meta["grade"] and "### BEGIN HIDDEN TESTS" in cell.source:
                for line in between(cell.source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"):
                    assert line not in released_cells[grade_id].source, \
                        f"{assignment}/{grade_id}: the release shows the hidden test line {line!r}"
        assert not any(c.get("outputs") for c in released.cells if c.cell_type == "code")


# ---------------------------------------------------------------------------------------------------
# A class through the whole cycle

SWISH_RIGHT = "def swish(x):\n    return x * tf.sigmoid(x)\n"
DERIVATIVE_RIGHT = ("def swish_derivative(xs):\n    s = 1.0 / (1.0 + np.exp(-np.asarray(xs, dtype=float)))\n"
                    "    return s + xs * s * (1.0 - s)\n")
SOFTMAX_RIGHT = ("def softmax(z):\n    e = np.exp(z - z.max(axis=-1, keepdims=True))\n"
                 "    return e / e.sum(axis=-1, keepdims=True)\n")
SOFTMAX_NAIVE = "def softmax(z):\n    return np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)\n"  # overflows

# student -> (answers by solution cell, what happens to the test cells, expected points per test cell)
CLASS = {
    "perfect": ({"swish": SWISH_RIGHT, "swish_derivative": DERIVATIVE_RIGHT, "softmax": SOFTMAX_RIGHT},
                {}, {"test_swish": 3, "test_swish_derivative": 3, "test_softmax": 4}),
    # the visible softmax tests pass, the hidden ones (logits of 1000) do not
    "partial": ({"swish": SWISH_RIGHT, "swish_derivative": DERIVATIVE_RIGHT, "softmax": SOFTMAX_NAIVE},
                {}, {"test_swish": 3, "test_swish_derivative": 3, "test_softmax": 0}),
    "wrong": ({"swish": "def swish(x):\n    return x * tf.tanh(x)\n",
               "swish_derivative": "def swish_derivative(xs):\n    return np.ones_like(xs)\n",
               "softmax": "def softmax(z):\n    return z / z.sum(axis=-1, keepdims=True)\n"},
              {}, {"test_swish": 0, "test_swish_derivative": 0, "test_softmax": 0}),
    "raises": ({"swish": "raise RuntimeError('I give up')\n", "swish_derivative": DERIVATIVE_RIGHT,
                "softmax": SOFTMAX_RIGHT},
               {}, {"test_swish": 0, "test_swish_derivative": 3, "test_softmax": 4}),
    "loops": ({"swish": SWISH_RIGHT, "swish_derivative": "while True:\n    pass\n", "softmax": SOFTMAX_RIGHT},
              {}, {"test_swish": 3, "test_swish_derivative": 0, "test_softmax": 4}),
    # deletes the test cell of a wrong answer, empties another, and deletes the one of a right answer:
    # all three come back from the source and grade what the answers are worth
    "editor": ({"swish": "def swish(x):\n    return x\n",
                "swish_derivative": "def swish_derivative(xs):\n    return 0.5 * np.ones_like(xs)\n",
                "softmax": SOFTMAX_RIGHT},
               {"test_swish": None, "test_swish_derivative": "assert True  # all good", "test_softmax": None},
               {"test_swish": 0, "test_swish_derivative": 0, "test_softmax": 4}),
    # wrong answers that try to pass anyway: NumPy's comparison functions patched to always agree, and
    # an answer object that equals everything
    "faker": ({"swish": SWISH_RIGHT,
               "swish_derivative": (
                   "import numpy.testing\n"
                   "np.allclose = lambda *a, **k: True\nnp.isclose = lambda *a, **k: True\n"
                   "np.array_equal = lambda *a, **k: True\n"
                   "np.testing.assert_allclose = lambda *a, **k: None\n"
                   "numpy.testing.assert_array_almost_equal = lambda *a, **k: None\n"
                   "def swish_derivative(xs):\n    return np.zeros_like(xs)\n"),
               "softmax": (
                   "class Anything(np.ndarray):\n"
                   "    def __eq__(self, other):\n        return True\n"
                   "    __le__ = __ge__ = __lt__ = __gt__ = __eq__\n"
                   "    def __bool__(self):\n        return True\n"
                   "    def all(self, *a, **k):\n        return True\n"
                   "def softmax(z):\n    return np.zeros(np.shape(z)).view(Anything)\n")},
              {}, {"test_swish": 3, "test_swish_derivative": 0, "test_softmax": 0}),
    # hands in the released notebook as it is
    "blank": (None, {}, {"test_swish": 0, "test_swish_derivative": 0, "test_softmax": 0}),
}
NOT_A_NOTEBOOK = "notebook"  # a student whose upload is a text file with the notebook's name
VIA_EXCHANGE = "perfect"  # submits through the exchange (release/fetch/submit/collect); the rest: zip_collect


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """The class handed in, collected, autograded (the first run killed midway, the second completing),
    and given feedback; returns the course folder and the output of each step."""
    course = make_course(tmp_path_factory.mktemp("grading") / "course")
    assignment = CLASS_ASSIGNMENT
    log = {}
    for student in [*CLASS, NOT_A_NOTEBOOK]:
        nbgrader(course, "db", "student", "add", student, f"--first-name={student.title()}",
                 "--last-name=Test")
    nbgrader(course, "generate_assignment", assignment)
    released = course / "release" / assignment / f"{assignment}.ipynb"

    # the LMS route: downloads named <student>_<notebook>.ipynb, collected by zip_collect
    archive = course / "downloaded" / assignment / "archive"
    archive.mkdir(parents=True)
    for student, (answers, test_edits, _) in CLASS.items():
        if student != VIA_EXCHANGE:
            nbformat.write(submission(released, answers, test_edits),
                           archive / f"{student}_{assignment}.ipynb")
    (archive / f"{NOT_A_NOTEBOOK}_{assignment}.ipynb").write_text("my answers are in the PDF\n")
    log["zip_collect"] = nbgrader(course, "zip_collect", assignment).stdout

    # the exchange route, inside the course folder: release, a student fetches, submits; collect
    nbgrader(course, "release_assignment", assignment)
    student_home = course.parent / VIA_EXCHANGE
    student_home.mkdir()
    exchange = [f"--Exchange.root={course / 'exchange'}", "--CourseDirectory.course_id=tfcore-course"]
    nbgrader(student_home, "fetch_assignment", assignment, *exchange)
    answers, test_edits, _ = CLASS[VIA_EXCHANGE]
    fetched = student_home / assignment / f"{assignment}.ipynb"
    nbformat.write(submission(fetched, answers, test_edits), fetched)
    nbgrader(student_home, "submit", assignment, f"--student={VIA_EXCHANGE}", *exchange)
    log["collect"] = nbgrader(course, "collect", assignment).stdout
    assert (course / "submitted" / VIA_EXCHANGE / assignment / f"{assignment}.ipynb").is_file()

    # autograde, killed once it has graded some of the class
    log["killed_after"] = _autograde_then_kill(course, assignment)
    from nbgrader.api import Gradebook  # the gradebook is readable right after the kill

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        log["graded_before_kill"] = len(gradebook.assignment_submissions(assignment))
    # nbgrader would skip the student cut off midway (its folder exists) and keep the kill's partial
    # grades: `course grading resume` regrades that one, then the students not graded yet
    log["unfinished"] = grading.unfinished(course, assignment)
    started = time.perf_counter()
    # nbgrader's status is 1: one submission could not be graded at all (the file that is not a notebook)
    log["autograde"] = course_command(course, "grading", "resume", assignment, status=1)
    log["autograde_seconds"] = time.perf_counter() - started
    log["generate_feedback"] = nbgrader(course, "generate_feedback", assignment).stdout
    # release_feedback needs the submission's timestamp.txt, which only the exchange writes: LMS uploads
    # get their feedback HTML back through the LMS (grading/README.md)
    log["release_feedback"] = nbgrader(course, "release_feedback", assignment,
                                       f"--student={VIA_EXCHANGE}").stdout
    nbgrader(student_home, "fetch_feedback", assignment, f"--student={VIA_EXCHANGE}", *exchange)
    nbgrader(course, "export")
    return course, log


def _autograde_then_kill(course, assignment, graded=2):
    """Start `nbgrader autograde`, kill it (and its kernels) once `graded` students have an autograded
    folder; returns the students done when it was killed."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = dict(os.environ, PATH=path)
    env.setdefault("TFCORE_DATASETS", str(SHARED_DATASETS))
    process = subprocess.Popen([sys.executable, "-m", "nbgrader", "autograde", assignment], cwd=course,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    done_dir = course / "autograded"
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and process.poll() is None:
            done = sorted(p.name for p in done_dir.iterdir()) if done_dir.is_dir() else []
            if len(done) > graded:  # `graded` finished, the next one in progress
                return done
            time.sleep(0.2)
        pytest.fail("autograde finished (or hung) before it could be killed midway")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.mark.slow
def test_class_scores_come_from_the_gradebook(graded_class):
    course, log = graded_class
    per_cell, totals = scores(course, CLASS_ASSIGNMENT)
    expected = {student: cells for student, (_, _, cells) in CLASS.items()}
    assert {s: per_cell.get(s) for s in expected} == expected
    assert {s: totals[s] for s in CLASS} == {s: float(sum(cells.values())) for s, cells in expected.items()}
    assert totals["perfect"] == 10.0


@pytest.mark.slow
def test_a_file_that_is_not_a_notebook_is_a_clear_error(graded_class):
    course, log = graded_class
    output = log["autograde"].stdout
    errors = [line for line in output.splitlines() if "ERROR" in line or "Error" in line]
    assert any(NOT_A_NOTEBOOK in line for line in output.splitlines() if "ERROR" in line), output[-3000:]
    assert re.search(r"NotJSONError|not valid JSON|Notebook does not appear to be JSON", output), errors
    _, totals = scores(course, CLASS_ASSIGNMENT)
    assert totals[NOT_A_NOTEBOOK] == 0.0  # nothing to grade: zero, and the rest of the class is graded
    assert set(totals) == {*CLASS, NOT_A_NOTEBOOK}


@pytest.mark.slow
def test_feedback_html_for_every_student(graded_class):
    course, log = graded_class
    for student, (_, _, cells) in CLASS.items():
        html = course / "feedback" / student / CLASS_ASSIGNMENT / f"{CLASS_ASSIGNMENT}.html"
        assert html.is_file(), f"no feedback for {student}"
        text = html.read_text(encoding="utf-8")
        assert f"{float(sum(cells.values()))}" in text or f"{sum(cells.values())}" in text
    fetched = list((course.parent / VIA_EXCHANGE / CLASS_ASSIGNMENT / "feedback").rglob("*.html"))
    assert [p.name for p in fetched] == [f"{CLASS_ASSIGNMENT}.html"], "the exchange student fetches it"


@pytest.mark.slow
def test_grades_export_to_csv(graded_class):
    import csv

    course, _ = graded_class
    with open(course / "grades.csv", newline="") as file:
        rows = {row["student_id"]: row for row in csv.DictReader(file)
                if row["assignment"] == CLASS_ASSIGNMENT}
    for student, (_, _, cells) in CLASS.items():
        assert float(rows[student]["score"]) == sum(cells.values())
        assert float(rows[student]["max_score"]) == 10.0


@pytest.mark.slow
def test_killed_autograde_loses_nothing(graded_class):
    course, log = graded_class
    assert len(log["killed_after"]) < len(CLASS) + 1, "the first autograde must be killed before the end"
    assert log["graded_before_kill"] >= 1
    # the student in progress at the kill: a folder in autograded/ with a notebook never executed
    assert log["unfinished"] == [log["killed_after"][-1]]
    assert f"{log['unfinished'][0]}: the last autograde of {CLASS_ASSIGNMENT} was interrupted" in \
        log["autograde"].stdout
    per_cell, totals = scores(course, CLASS_ASSIGNMENT)
    assert set(totals) == {*CLASS, NOT_A_NOTEBOOK}
    assert per_cell["perfect"] == CLASS["perfect"][2]


@pytest.mark.slow
def test_grading_twice_gives_the_same_score(graded_class):
    course, _ = graded_class
    before, after = regrade(course, CLASS_ASSIGNMENT, ("partial", "faker"))
    assert after == before


def test_resume_names_a_missing_assignment(tmp_path):
    course = make_course(tmp_path / "course")
    with pytest.raises(FileNotFoundError, match="04_gradient_descent"):
        grading.unfinished(course, "04_gradient_descent")


def test_resume_finds_the_interrupted_students(tmp_path):
    """A folder in autograded/ whose notebook was never executed (or is missing, or unreadable) is
    unfinished; one with executed cells is done."""
    course = make_course(tmp_path / "course")
    name = "04_gradient_descent"
    (course / "release" / name).mkdir(parents=True)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# x"),
                                               nbformat.v4.new_code_cell("1 + 1")])
    nbformat.write(notebook, course / "release" / name / f"{name}.ipynb")
    for student, state in [("done", "executed"), ("cut", "sanitised"), ("gone", "missing"), ("torn", "torn")]:
        folder = course / "autograded" / student / name
        folder.mkdir(parents=True)
        copy = nbformat.from_dict(notebook)
        if state == "executed":
            copy.cells[1].execution_count = 1
        if state == "torn":
            (folder / f"{name}.ipynb").write_text('{"cells": [')
        elif state != "missing":
            nbformat.write(copy, folder / f"{name}.ipynb")
    assert grading.unfinished(course, name) == ["cut", "gone", "torn"]


@pytest.mark.slow
def test_feedback_hides_the_hidden_tests(graded_class):
    """The feedback HTML shows each test cell's score and its failure message, never the code of a
    hidden test (not its source, not the traceback that would quote it)."""
    import html as html_module

    course, _ = graded_class
    source = nbformat.read(source_path(CLASS_ASSIGNMENT), as_version=4)
    hidden = [line for cell in source.cells if cell.cell_type == "code"
              for line in between(cell.source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")]
    assert hidden, "the assignment has hidden tests"
    for student in CLASS:
        page = course / "feedback" / student / CLASS_ASSIGNMENT / f"{CLASS_ASSIGNMENT}.html"
        text = html_module.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))
        assert "BEGIN HIDDEN TESTS" not in text and "hidden tests: not shown" in text, student
        for line in hidden:
            assert line not in text, f"{student}'s feedback shows the hidden test line {line!r}"
    partial = (course / "feedback" / "partial" / CLASS_ASSIGNMENT / f"{CLASS_ASSIGNMENT}.html")
    text = html_module.unescape(re.sub(r"<[^>]+>", "", partial.read_text(encoding="utf-8")))
    assert "AssertionError" in text, "a failed hidden test still says why it failed"
