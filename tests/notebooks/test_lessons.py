"""Every lesson notebook in lessons/: stored clean, shaped as a lesson, and executed top to bottom in
fast mode (COURSE_FAST=1) on tfcore and on TensorFlow, with no error, no warning and no figure without
its title or axis labels.

The notebooks are found by name (``lessons/NN_*.ipynb``); a lesson not written yet simply has no test.
Run one lesson with ``-k 05_`` and see the run times with ``-s`` or in the summary at the end.
"""

import importlib.util
import os
import re
from pathlib import Path

import nbformat
import pytest

from course import lessons, plots
from course import results as lessons_results

REPO = Path(__file__).resolve().parents[2]
LESSONS = lessons.lesson_files()
STORED = sorted(path for folder in ("lessons", "exercises", "apps")
                for path in (REPO / folder).rglob("*.ipynb") if ".ipynb_checkpoints" not in path.parts)
HAS_TF = importlib.util.find_spec("tensorflow") is not None
SHARED_DATASETS = REPO.parent / "shared" / "datasets"
CELL_TIMEOUT = 300  # seconds; fast mode keeps every cell far below this

ENGINES = [
    pytest.param("tfcore", id="tfcore"),
    pytest.param("tensorflow", id="tensorflow", marks=[
        pytest.mark.tensorflow,
        pytest.mark.skipif(not HAS_TF, reason="TensorFlow is not installed (pip install tensorflow-cpu)"),
    ]),
]


def _ids(paths):
    return [str(p.relative_to(REPO)) for p in paths]


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_clean(path, engine, tmp_path, monkeypatch, record_lesson_time):
    if not os.environ.get("TFCORE_DATASETS") and SHARED_DATASETS.is_dir():
        monkeypatch.setenv("TFCORE_DATASETS", str(SHARED_DATASETS))
    figure_log = tmp_path / "figures.jsonl"
    # the kernel works in a folder of its own, not in lessons/: the checkpoints and event files a lesson
    # writes must not meet those of the other engine's run, an xdist worker's, or a student's
    work = tmp_path / "work"
    work.mkdir()
    try:
        run = lessons.run_lesson(path, tmp_path / "executed", engine=engine, fast=True,
                                 figure_log=figure_log, timeout=CELL_TIMEOUT, cwd=work)
    except lessons.LessonError as exc:
        pytest.fail(f"[{engine}] {exc}", pytrace=False)
    record_lesson_time(path.name, engine, run.seconds)
    problems = [f"cell {e['cell_index'] + 1} ({e['source_start'].splitlines()[0]!r}) has an error output: "
                f"{e['ename']}: {e['evalue']}" for e in run.errors]
    problems += run.problems
    problems += plots.check_figures(figure_log)
    if problems:
        pytest.fail(f"{path.name} [{engine}]: {len(problems)} problem(s) (executed copy: {run.output}):\n"
                    + "\n".join(f"- {p}" for p in problems), pytrace=False)


@pytest.mark.parametrize("path", STORED, ids=_ids(STORED))
def test_notebook_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    dirty = [i + 1 for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, (f"{path.relative_to(REPO)}: cells {dirty} are stored with outputs or execution "
                       "counts; clear them (Edit > Clear Outputs of All Cells) before committing")


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_structure(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    name = path.name
    lesson = lessons.lesson_for(path)
    assert lesson is not None, f"{name} has no number of the syllabus (course/lessons.py)"
    assert name == lesson.notebook, \
        f"{name}: lesson {lesson.tag} is called {lesson.notebook} in the syllabus (course/lessons.py)"
    kernel = notebook.metadata.get("kernelspec", {}).get("name")
    assert kernel == "python3", f"{name}: the kernelspec is {kernel!r}, not python3"
    cells = notebook.cells
    assert cells and cells[0].cell_type == "markdown" and re.match(r"#\s+\S", cells[0].source.lstrip()), \
        f"{name}: the first cell must be a markdown title ('# ...')"
    assert any(c.cell_type == "markdown" and "what you will be able to do" in c.source.lower()
               for c in cells[1:4]), f"{name}: a 'What you will be able to do' cell must follow the title"
    last = cells[-1]
    assert last.cell_type == "markdown" and re.search(r"^#+\s*Exercises", last.source, re.MULTILINE), \
        f"{name}: the last cell must be the 'Exercises' markdown cell"
    assert "exercises/" in last.source, f"{name}: the Exercises cell must point at exercises/"


# A run time in words: "24 seconds", "0.5 s per step", "a couple of minutes", "about an hour".
DURATION = re.compile(r"\b\d[\d.,]*\s*(?:ms|seconds?|min|minutes?|hours?)\b|\b\d[\d.,]*\s+s\b"
                      r"|\b(?:an?|one|two|three|ten|few|several|couple of|half an|dozens? of)\s+"
                      r"(?:ms|seconds|minutes?|hours?)\b", re.IGNORECASE)


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_text_states_run_times_only_as_measured(path):
    notebook = nbformat.read(path, as_version=4)
    stated = [f"cell {cell.get('id', '?')}: {match[0]!r}" for cell in notebook.cells
              if cell.cell_type == "markdown"
              for match in DURATION.finditer(lessons_results.MEASURED.sub("", cell.source))]
    assert not stated, (f"{path.name} states run times by hand: {stated}; put each in a measured span "
                        "(<!-- measured NN.report_name -->...<!-- /measured -->, course/results.py) that "
                        "`course results` fills in")


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_measured_spans_name_what_their_lesson_reports(path):
    notebook = nbformat.read(path, as_version=4)
    reported = {m[1] for cell in notebook.cells if cell.cell_type == "code"
                for m in re.finditer(r"course\.report\(\s*[\"'](\w+)[\"']", cell.source)}
    reported.add(lessons_results.LESSON_SECONDS)
    for cell in notebook.cells:
        for span in lessons_results.MEASURED.finditer(cell.source if cell.cell_type == "markdown" else ""):
            assert span["lesson"] == path.name[:2], f"{path.name}: {span[0]!r} is another lesson's value"
            assert span["name"] in reported, f"{path.name}: {span[0]!r} names no value the lesson reports"
