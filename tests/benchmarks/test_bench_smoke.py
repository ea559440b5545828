"""The benchmark command runs and writes its JSON in the documented shape. No timing is checked here:
timing goals live in the benchmark itself (benchmarks/README.md)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import run

ROOT = Path(__file__).resolve().parents[2]
ENGINES = {"tfcore", "tensorflow", "torch"}


def _check_cell(cell):
    assert isinstance(cell, dict)
    assert {"value", "na", "error"} & set(cell), cell
    if "value" in cell:
        assert isinstance(cell["value"], float) and cell["value"] > 0
        assert cell["samples"] and all(isinstance(v, float) for v in cell["samples"])


def test_quick_run_writes_the_json(tmp_path):
    out = tmp_path / "latest.json"
    readme_before = (ROOT / "benchmarks" / "README.md").read_text()
    done = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--only", "tiny_run",
                           "--repeats", "2", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "tfcore/TF" in done.stdout and "session.run" in done.stdout
    assert (ROOT / "benchmarks" / "README.md").read_text() == readme_before  # only full runs write it

    report = json.loads(out.read_text())
    assert report["schema"] == run.SCHEMA
    for key in ("cpu_model", "cores", "ram_gib", "python", "numpy", "tensorflow", "torch", "date"):
        assert key in report["machine"]
    assert report["settings"]["quick"] is True
    assert report["settings"]["environment"]["TF_ENABLE_ONEDNN_OPTS"] == "1"
    [row] = report["workloads"]
    assert row["name"] == "tiny_run" and row["unit"] == "us"
    assert set(row["results"]) == ENGINES
    for cell in row["results"].values():
        _check_cell(cell)
    assert "value" in row["results"]["tfcore"], row["results"]["tfcore"]
    assert row["goal"] == {"kind": "ratio_at_most", "value": 0.2, "text": "<= 0.2"}
    if "value" in row["results"]["tensorflow"]:
        assert row["ratio"] == pytest.approx(row["results"]["tfcore"]["value"]
                                             / row["results"]["tensorflow"]["value"])
        assert row["goal_met"] is (row["ratio"] <= 0.2)
    else:
        assert row["ratio"] is None and row["goal_met"] is None


def test_quick_skips_the_subprocess_workloads_and_opt_ins():
    names = [w.name for w in run.selected_workloads(run.parse_args(["--quick"]))]
    assert names == ["mlp_step", "lenet_train", "lenet_infer", "tiny_run", "style_256"]
    names = [w.name for w in run.selected_workloads(run.parse_args([]))]
    assert "import_time" in names and "lenet_peak_memory" in names
    assert "mnist_lesson" not in names and "style_512_memory" not in names
    names = [w.name for w in run.selected_workloads(run.parse_args(["--full-lesson", "--big"]))]
    assert names[-2:] == ["mnist_lesson", "style_512_memory"]
    with pytest.raises(SystemExit):
        run.selected_workloads(run.parse_args(["--only", "no_such_workload"]))


def test_rows_tables_and_readme(tmp_path):
    cells = {"tfcore": {"value": 3.0}, "tensorflow": {"value": 4.0}, "torch": {"na": "not installed"}}
    row = run.evaluate(run.BY_NAME["mlp_step"], cells)
    assert row["ratio"] == 0.75 and row["goal_met"] is True
    big = run.evaluate(run.BY_NAME["style_512_memory"],
                       {"tfcore": {"value": 5000.0}, "tensorflow": {"error": "x"}, "torch": {"na": "-"}})
    assert big["ratio"] is None and big["goal_met"] is False
    assert "n/a" in run.text_table([row]) and "error" in run.markdown_table([big])

    readme = tmp_path / "README.md"
    readme.write_text(f"head\n{run.README_START}\nold\n{run.README_END}\ntail\n")
    machine = {"cpu_model": "cpu", "cores": 2, "ram_gib": 4.0, "platform": "Linux", "python": "3.11",
               "numpy": "2", "numpy_blas": None, "tensorflow": None, "torch": None, "tfcore": "0.1.0",
               "date": "2025-01-01T00:00:00+00:00"}
    settings = {"load_start": [1, 1, 1], "load_end": [1, 1, 1], "seconds": 1.0, "command": "x"}
    run.update_readme({"machine": machine, "settings": settings, "workloads": [row, big], "profiles": {}},
                      path=readme)
    text = readme.read_text()
    assert text.startswith("head\n") and text.endswith("tail\n") and "old" not in text
    assert "| MLP 784-500-10" in text and "| peak memory, 512x512" in text
    assert "style_512_memory on tensorflow: x" in text


def test_an_engine_that_is_not_installed_shows_na(monkeypatch):
    monkeypatch.setattr(run.engines, "available", lambda name: name != "torch")
    ctx = run.Context(run.parse_args(["--quick", "--engines", "tfcore,tensorflow,torch"]))
    chosen = run._available_engines(run.BY_NAME["tiny_run"], ctx)
    assert chosen == {"tfcore": None, "tensorflow": None, "torch": {"na": "torch is not installed"}}
    row = run.evaluate(run.BY_NAME["tiny_run"], {"tfcore": {"value": 1.0}, "tensorflow": {"value": 10.0},
                                                 "torch": chosen["torch"]})
    assert run.table_rows([row])[1][0][4] == "n/a" and row["goal_met"] is True


def test_compare_trees_times_two_trees_in_turns():
    # This tree against itself: both workers run, and each row has two medians and two ratios.
    done = subprocess.run([sys.executable, "-m", "benchmarks.compare_trees", str(ROOT), "tiny_run:2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    row = next(line for line in done.stdout.splitlines() if line.startswith("tiny_run"))
    numbers = [float(x) for x in row.replace("/", " ").split()[2:]]
    assert len(numbers) == 6 and all(n > 0 for n in numbers)
