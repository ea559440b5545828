"""The `course` command: list, run, data fetch, results."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course import cli, lessons

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("TFCORE_DATASETS") or REPO.parent / "shared" / "datasets")


def test_course_list(tmp_path, capsys):
    folder = tmp_path / "lessons"
    folder.mkdir()
    (folder / "01_tensors_graphs_sessions.ipynb").write_text("{}")
    (folder / "04_gradient_descent.ipynb").write_text("{}")
    out = tmp_path / "executed"
    out.mkdir()
    (out / "04_gradient_descent.ipynb").write_text("{}")
    assert cli.main(["--lessons-dir", str(folder), "list", "--output-dir", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line[:2]: line.split() for line in lines[2:]}
    assert list(rows) == [lesson.tag for lesson in lessons.SYLLABUS]
    assert rows["01"][1:3] == ["available", "no"]
    assert rows["04"][1:3] == ["available", "yes"]
    assert rows["05"][1:3] == ["missing", "no"]
    assert rows["08"][1:3] == ["missing", "no"]
    for lesson in lessons.SYLLABUS:
        assert lesson.title in " ".join(rows[lesson.tag])


def test_python_m_course_list():
    result = subprocess.run([sys.executable, "-m", "course", "list"], capture_output=True, text=True,
                            cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Tensors, graphs and sessions" in result.stdout
    assert "Neural style transfer" in result.stdout


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(["run"])
    assert caught.value.code == 2
    with pytest.raises(SystemExit) as caught:
        cli.main(["run", "01", "--engine", "pytorch"])
    assert caught.value.code == 2


def test_run_unknown_lesson(tmp_path, capsys):
    assert cli.main(["--lessons-dir", str(tmp_path), "run", "42"]) == 1
    assert "there is no lesson 42" in capsys.readouterr().err


@pytest.mark.slow
def test_course_run(make_notebook, tmp_path, capsys):
    good = make_notebook("01_good.ipynb", "# Good",
                         "import course\nprint(course.fast(), course.engine_name())")
    out = tmp_path / "executed"
    assert cli.main(["run", str(good), "--fast", "--output-dir", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "01_good.ipynb: ok in " in printed and " s (tfcore, fast) -> " in printed
    executed = nbformat.read(out / "01_good.ipynb", as_version=4)
    assert executed.cells[1].outputs[0]["text"] == "True tfcore\n"
    assert nbformat.read(good, as_version=4).cells[1].outputs == []


@pytest.mark.slow
def test_course_run_failure_exits_nonzero(make_notebook, tmp_path, capsys):
    bad = make_notebook("02_bad.ipynb", "# Bad", "1 / 0")
    good = make_notebook("03_fine.ipynb", "# Fine", "print('fine')")
    out = tmp_path / "executed"
    assert cli.main(["run", str(bad), str(good), "--output-dir", str(out)]) == 1
    captured = capsys.readouterr()
    assert "02_bad.ipynb: FAILED" in captured.out
    assert "03_fine.ipynb: ok" in captured.out  # one failure does not stop the others
    assert "1 of 2 lessons ran without errors; failed: 02_bad.ipynb" in captured.out
    assert ("lesson 02_bad.ipynb failed in cell 2:\n    1 / 0\nZeroDivisionError: division by zero"
            in captured.err)


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"the shared datasets are not at {SHARED}")
def test_course_data_fetch_verifies_without_network(monkeypatch, capsys):
    monkeypatch.setenv("TFCORE_DATASETS", str(SHARED))
    import pooch

    def no_download(*args, **kwargs):
        pytest.fail("course data fetch tried to download with TFCORE_DATASETS set")

    monkeypatch.setattr(pooch, "retrieve", no_download)
    assert cli.main(["data", "fetch"]) == 0
    out = capsys.readouterr().out
    assert f"TFCORE_DATASETS={SHARED}" in out
    assert "are present and verified" in out


def test_course_data_fetch_reports_missing_files(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("TFCORE_DATASETS", str(tmp_path))
    assert cli.main(["data", "fetch"]) == 1
    err = capsys.readouterr().err
    assert "course data fetch: data file 'train-images-idx3-ubyte.gz'" in err  # after the progress bar
    assert "is missing" in err and "more file(s) failed too" in err


@pytest.mark.slow
def test_course_results(make_notebook, tmp_path, capsys):
    make_notebook("05_reporting.ipynb", "# Reports", "import course\ncourse.report('test_accuracy', 0.75)\n"
                  "course.report('training_seconds', 1.5)")
    folder = tmp_path / "lessons"
    readme = folder / "README.md"
    readme.write_text(f"# Lessons\n\n{lessons.RESULTS_START}\nnot measured\n{lessons.RESULTS_END}\n")
    args = ["--lessons-dir", str(folder), "results", "--fast", "--output-dir", str(tmp_path / "out")]
    assert cli.main(args) == 0
    text = readme.read_text()
    assert "not measured" not in text
    assert "in fast mode (`COURSE_FAST=1`)" in text
    row = "| [05 MNIST with a fully connected network](05_reporting.ipynb) | test_accuracy | 75.00% |"
    assert row in text
    assert "|  | training_seconds | 1.5 s |" in text
    assert "|  | lesson run time (every cell) |" in text
    assert text.startswith("# Lessons\n\n<!-- results:start -->\nMeasured on ")
    assert text.endswith("<!-- results:end -->\n")
    assert "test_accuracy: 0.75" in capsys.readouterr().out
    # without markers the command fails before running anything, and the README is left alone
    readme.write_text("# Lessons\n")
    assert cli.main(args) == 1
    captured = capsys.readouterr()
    assert "05_reporting.ipynb" not in captured.out
    assert "lacks the markers" in captured.err
    assert readme.read_text() == "# Lessons\n"


@pytest.mark.slow
def test_course_results_in_full_mode_writes_the_measured_times_into_the_lesson(make_notebook, tmp_path):
    path = make_notebook("07_timed.ipynb", "# Timed\n\nOne step took <!-- measured 07.seconds_per_step -->"
                         "(not measured yet)<!-- /measured -->.",
                         "import course\ncourse.report('seconds_per_step', 0.0812)")
    readme = tmp_path / "lessons" / "README.md"
    readme.write_text(f"{lessons.RESULTS_START}\n{lessons.RESULTS_END}\n")
    args = ["--lessons-dir", str(path.parent), "results", "--output-dir", str(tmp_path / "out")]
    assert cli.main(args) == 0
    text = nbformat.read(path, as_version=4).cells[0].source
    assert text == "# Timed\n\nOne step took <!-- measured 07.seconds_per_step -->81 ms<!-- /measured -->."
    assert "in full mode" in readme.read_text()
