"""`course.lessons`: the syllabus, finding lessons, the headless runner and the results table."""

import datetime
import json

import nbformat
import pytest

from course import lessons, plots
from course import results as lessons_results

# --- the syllabus -----------------------------------------------------------------------------------


def test_syllabus():
    numbers = [lesson.number for lesson in lessons.SYLLABUS]
    assert numbers == list(range(1, 11))
    for lesson in lessons.SYLLABUS:
        assert lesson.notebook.startswith(lesson.tag + "_") and lesson.notebook.endswith(".ipynb")
    assert lessons.SYLLABUS[4].notebook == "05_mnist_fully_connected.ipynb"
    assert lessons.SYLLABUS[9].notebook == "10_inside_the_engine.ipynb"


def test_status_and_find_lesson(tmp_path):
    (tmp_path / "07_lenet5.ipynb").write_text("{}")
    (tmp_path / "08_neural_style.ipynb").write_text("{}")
    status = {lesson.number: lesson.status(tmp_path) for lesson in lessons.SYLLABUS}
    assert status[7] == "available" and status[8] == "available"
    assert status[9] == "missing" and status[1] == "missing"
    lenet = (tmp_path / "07_lenet5.ipynb").resolve()
    for spec in ("7", "07", "07_lenet5", "07_lenet5.ipynb", "lenet", str(lenet)):
        assert lessons.find_lesson(spec, tmp_path) == lenet
    with pytest.raises(LookupError, match="no lesson 42|there is no lesson 42"):
        lessons.find_lesson("42", tmp_path)
    with pytest.raises(LookupError, match=r"lesson 01 \(Tensors, graphs and sessions\) has no notebook"):
        lessons.find_lesson("1", tmp_path)
    with pytest.raises(LookupError, match=r"lesson 09 \(Fast .*\) has no notebook"):
        lessons.find_lesson("9", tmp_path)
    with pytest.raises(LookupError, match="several lessons"):
        lessons.find_lesson("_", tmp_path)
    assert lessons.lesson_for(lenet).title == "LeNet-5"
    assert lessons.lesson_for(tmp_path / "notes.ipynb") is None


# --- the runner -------------------------------------------------------------------------------------

CLEAN_CELLS = [
    "# A tiny lesson",
    "import os, sys\nimport course\ntf = course.engine()\nprint(tf.constant(1.0) + tf.constant(2.0))\n"
    "print('cwd', os.getcwd())\nprint('env', os.environ['COURSE_ENGINE'], os.environ['COURSE_FAST'])",
    "from course import plots\nplots.curves({'a': [1, 2]}, title='Labelled', xlabel='x', ylabel='y');",
    "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([1, 2]);",
    "course.report('test_accuracy', 0.5)",
    "from tqdm import tqdm\nfor _ in tqdm(range(3), file=sys.stderr, desc='training'):\n    pass",
]


@pytest.mark.slow
def test_run_lesson(make_notebook, tmp_path):
    source = make_notebook("01_tiny.ipynb", *CLEAN_CELLS)
    original = source.read_text()
    run = lessons.run_lesson(source, tmp_path / "out", engine="tfcore", fast=True,
                             figure_log=tmp_path / "figures.jsonl", report_file=tmp_path / "reports.jsonl",
                             timeout=120)
    assert source.read_text() == original  # the lesson itself is never written
    assert run.output == (tmp_path / "out" / "01_tiny.ipynb").resolve()
    assert run.engine == "tfcore" and run.fast and run.seconds > 0
    assert run.errors == [] and run.problems == []  # tqdm's bar on stderr is not a problem
    executed = nbformat.read(run.output, as_version=4)
    text = "".join(out.get("text", "") for out in executed.cells[1].outputs)
    assert 'Tensor("add:0", shape=(), dtype=float32)' in text
    assert f"cwd {source.parent}" in text and "env tfcore 1" in text
    assert any("image/png" in out.get("data", {}) for out in executed.cells[2].outputs)
    # both figures were logged through the inline backend; the unlabelled one is named
    problems = plots.check_figures(tmp_path / "figures.jsonl")
    figure = "01_tiny: figure 2 ('untitled', in the cell starting 'import matplotlib.pyplot as plt'): "
    assert problems and all(p.startswith(figure) for p in problems)
    assert lessons.read_reports(tmp_path / "reports.jsonl") == [
        {"lesson": "01_tiny", "name": "test_accuracy", "value": 0.5}]


@pytest.mark.slow
def test_run_lesson_failure_names_the_cell(make_notebook, tmp_path):
    source = make_notebook("02_broken.ipynb", "# Broken", "import os\nprint(os.getcwd())",
                           "y = 2\nraise ValueError('no luck')\nz = 3", "print('never')")
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(lessons.LessonError) as caught:
        lessons.run_lesson(source, tmp_path / "out", timeout=120, cwd=work)
    error = caught.value
    assert error.lesson == "02_broken.ipynb" and error.cell_index == 2
    message = str(error)
    assert "lesson 02_broken.ipynb failed in cell 3" in message
    assert "y = 2\n    raise ValueError('no luck')" in message
    assert "ValueError: no luck" in message
    assert error.output.is_file()  # the executed copy, with the error, for a look
    executed = nbformat.read(error.output, as_version=4)
    assert executed.cells[1].outputs[0]["text"] == f"{work}\n"  # the kernel ran in `cwd`
    assert executed.cells[2].outputs[-1]["output_type"] == "error"
    assert executed.cells[3].outputs == []


def test_run_lesson_never_overwrites_the_source(make_notebook):
    source = make_notebook("03_x.ipynb", "print(1)")
    with pytest.raises(ValueError, match="overwrite"):
        lessons.run_lesson(source, source.parent)


def test_stream_problems():
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("work()")
    stream = nbformat.v4.new_output
    cell.outputs = [
        stream("stream", name="stderr", text="training:  50%|#####     | 1/2 [00:00<00:00, 9.1it/s]\r"
               "training: 100%|##########| 2/2 [00:00<00:00, 9.5it/s]\n"),
        stream("stream", name="stdout", text="a warning in prose is fine\n"),
    ]
    notebook.cells = [cell]
    assert lessons.stream_problems(notebook) == []
    for name, text in [("stderr", "/x.py:3: DeprecationWarning: old\n"),
                       ("stderr", "Traceback (most recent call last):\n"),
                       ("stderr", "WARNING: All log messages before absl::InitializeLog()\n"),
                       ("stdout", "WARNING:tensorflow:From x.py:1: f is deprecated\n"),
                       ("stdout", "x.py:3: UserWarning: careful\n")]:
        cell.outputs = [stream("stream", name=name, text=text)]
        problems = lessons.stream_problems(notebook)
        assert len(problems) == 1 and problems[0].startswith(f"cell 1 ('work()') printed to {name}")


# --- results ----------------------------------------------------------------------------------------


def _machine():
    return {"cpus": 2, "cpu_model": "Test CPU", "python": "3.11.9", "numpy": "2.4.6", "engine": "tfcore"}


def test_results_table():
    table = lessons.results_table(
        [("05_mnist_fully_connected.ipynb", 300.0,
          [{"lesson": "05_mnist_fully_connected", "name": "test_accuracy", "value": 0.9812},
           {"lesson": "05_mnist_fully_connected", "name": "training_seconds", "value": 245.2}]),
         ("01_tensors_graphs_sessions.ipynb", 4.25, [])],
        _machine(), datetime.date(2025, 1, 2))
    lines = table.splitlines()
    assert lines[0].startswith("Measured on 2025-01-02 by `course results` in full mode on 2 CPU cores "
                               "(Test CPU), Python 3.11.9")
    assert "| [05 MNIST with a fully connected network](05_mnist_fully_connected.ipynb) | test_accuracy | "\
           "98.12% |" in lines
    assert "|  | training_seconds | 4 min 5 s (245 s) |" in lines
    assert "| [01 Tensors, graphs and sessions](01_tensors_graphs_sessions.ipynb) | lesson run time (every "\
           "cell) | 4.2 s |" in lines
    assert "fast mode" in lessons.results_table([], _machine(), fast=True)


def test_update_readme(tmp_path):
    readme = tmp_path / "README.md"
    start, end = lessons.RESULTS_START, lessons.RESULTS_END
    readme.write_text(f"# Lessons\n\n## Results\n\n{start}\nold\n{end}\n\nAfter.\n")
    lessons.update_readme(readme, "| new |")
    assert readme.read_text() == (f"# Lessons\n\n## Results\n\n{lessons.RESULTS_START}\n| new |\n"
                                  f"{lessons.RESULTS_END}\n\nAfter.\n")
    (tmp_path / "plain.md").write_text("no markers")
    with pytest.raises(ValueError, match="markers"):
        lessons.update_readme(tmp_path / "plain.md", "x")


def test_spoken_durations():
    assert [lessons_results.spoken_duration(s) for s in (0.0812, 0.004, 4.24, 38.4, 245.2, 5400)] == \
        ["81 ms", "4.0 ms", "4.2 seconds", "38 seconds", "4.1 minutes", "1.5 hours"]


def test_measured_spans_take_the_reported_values():
    text = ("took <!-- measured 07.seconds_per_step -->old<!-- /measured --> per step, "
            "<!-- measured 07.lesson_seconds -->old<!-- /measured --> in all, "
            "<!-- measured 08.lesson_seconds -->kept<!-- /measured -->, "
            "<!-- measured 07.test_accuracy -->old<!-- /measured -->")
    values = lessons.measured_values([("07_lenet5.ipynb", 245.2, [
        {"lesson": "07_lenet5", "name": "seconds_per_step", "value": 0.0812},
        {"lesson": "07_lenet5", "name": "test_accuracy", "value": 0.9921}])])
    assert lessons.fill_measured(text, values) == (
        "took <!-- measured 07.seconds_per_step -->81 ms<!-- /measured --> per step, "
        "<!-- measured 07.lesson_seconds -->4.1 minutes<!-- /measured --> in all, "
        "<!-- measured 08.lesson_seconds -->kept<!-- /measured -->, "
        "<!-- measured 07.test_accuracy -->99.21%<!-- /measured -->")
    with pytest.raises(ValueError, match="lesson 07 reported no 'training_seconds'"):
        lessons.fill_measured("<!-- measured 07.training_seconds -->x<!-- /measured -->", values)


def test_update_measured_rewrites_only_the_spans(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# T\n\nIt took <!-- measured 05.lesson_seconds -->x"
                                                    "<!-- /measured -->."),
                      nbformat.v4.new_code_cell("print('<!-- measured 05.lesson_seconds -->x"
                                                "<!-- /measured -->')")]
    path = tmp_path / "05_x.ipynb"
    nbformat.write(notebook, path)
    before = path.read_text()
    assert lessons.update_measured([path], {("06", "lesson_seconds"): 3.0}) == []
    assert path.read_text() == before
    assert lessons.update_measured([path], lessons.measured_values([("05_x.ipynb", 30.0, [])])) == [path]
    stored = nbformat.read(path, as_version=4)
    assert stored.cells[0].source == ("# T\n\nIt took <!-- measured 05.lesson_seconds -->30 seconds"
                                      "<!-- /measured -->.")
    assert stored.cells[1].source == notebook.cells[1].source  # code is never touched
    assert [c.id for c in stored.cells] == [c.id for c in notebook.cells]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["05_x.ipynb"]


def test_machine_info():
    info = lessons.machine_info("tfcore")
    assert info["cpus"] >= 1 and info["cpu_model"] and info["python"].count(".") == 2
    assert info["engine"].startswith("tfcore")
    assert json.dumps(info)
