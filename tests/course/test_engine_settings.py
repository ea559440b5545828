"""The engine switch (`course.engine()`), fast mode (`course.fast()`, `course.choose()`) and
`course.report`, the protocol by which lessons hand results to `course results`."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import course
import tfcore

REPO = Path(__file__).resolve().parents[2]
HAS_TF = importlib.util.find_spec("tensorflow") is not None


def _python(code, **env):
    """Run `code` in a fresh Python (the engine switch changes process-wide TensorFlow state)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_")}
    environment.update(env)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), environment.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment,
                          cwd=REPO, timeout=300)


# --- the engine switch ------------------------------------------------------------------------------


def test_engine_is_tfcore_by_default(monkeypatch):
    monkeypatch.delenv("COURSE_ENGINE", raising=False)
    assert course.engine_name() == "tfcore"
    tf = course.engine()
    assert tf is tfcore
    with tf.Graph().as_default():
        a, b = tf.constant(2.0), tf.constant(3.0)
        assert str(a + b) == 'Tensor("add:0", shape=(), dtype=float32)'
        assert "float32_ref" in repr(tf.Variable(1.0))


@pytest.mark.parametrize("value", ["tfcore", "TFCORE", " tfcore ", ""])
def test_engine_names_that_mean_tfcore(monkeypatch, value):
    monkeypatch.setenv("COURSE_ENGINE", value)
    assert course.engine() is tfcore


@pytest.mark.parametrize("value", ["pytorch", "tf", "tensorflow2"])
def test_bad_engine_name_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("COURSE_ENGINE", value)
    with pytest.raises(ValueError, match=r"COURSE_ENGINE=.*not an engine of this course.*tfcore.*tensorflow"):
        course.engine()


@pytest.mark.tensorflow
@pytest.mark.skipif(not HAS_TF, reason="TensorFlow is not installed (pip install 'tensorflow-cpu==2.21.*')")
def test_engine_tensorflow_is_tf1_graph_mode():
    code = (
        "import course\n"
        "tf = course.engine()\n"
        "a = tf.constant(2.0); b = tf.constant(3.0)\n"
        "print(a + b)\n"
        "print(repr(tf.Variable(1.0)))\n"
        "print('eager', tf.executing_eagerly())\n"
        "print('module', tf.__name__)\n"
    )
    result = _python(code, COURSE_ENGINE="tensorflow")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert 'Tensor("add:0", shape=(), dtype=float32)' in lines
    assert any("dtype=float32_ref" in line for line in lines), result.stdout
    assert "eager False" in lines
    assert any(line.startswith("module tensorflow") for line in lines)


# --- fast mode --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [(None, False), ("0", False), ("", False), ("no", False),
                                             ("1", True), ("yes", True), ("true", True)])
def test_fast_mode(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("COURSE_FAST", raising=False)
    else:
        monkeypatch.setenv("COURSE_FAST", value)
    assert course.fast() is expected
    assert course.choose(30000, 300) == (300 if expected else 30000)


# --- course.report ----------------------------------------------------------------------------------


def test_report_prints_without_a_report_file(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("COURSE_REPORT_FILE", raising=False)
    assert course.report("test_accuracy", 0.981) == 0.981
    assert capsys.readouterr().out == "test_accuracy: 0.981\n"
    assert list(tmp_path.iterdir()) == []


def test_report_appends_json_lines(monkeypatch, capsys, tmp_path):
    log = tmp_path / "reports.jsonl"
    monkeypatch.setenv("COURSE_REPORT_FILE", str(log))
    monkeypatch.setenv("COURSE_LESSON", "05_mnist_fully_connected")
    value = course.report("test_accuracy", np.float32(0.5))
    course.report("training_seconds", 12)
    assert isinstance(value, float)  # numpy scalars become Python numbers
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records == [
        {"lesson": "05_mnist_fully_connected", "name": "test_accuracy", "value": 0.5},
        {"lesson": "05_mnist_fully_connected", "name": "training_seconds", "value": 12},
    ]
    assert "test_accuracy: 0.5" in capsys.readouterr().out


# --- importing course -------------------------------------------------------------------------------


def test_import_course_does_not_import_matplotlib():
    result = _python("import sys, course; course.engine(); print('matplotlib' in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_figure_log_installed_by_import_course(tmp_path):
    """With COURSE_FIGURE_LOG set, `import course` alone installs the checker; every rendered figure is
    logged and `check_figures` names the one without labels."""
    log = tmp_path / "figures.jsonl"
    code = (
        "import course\n"
        "import matplotlib.pyplot as plt\n"
        "fig, ax = plt.subplots(); ax.plot([1, 2]); ax.set_title('labelled')\n"
        f"ax.set_xlabel('x'); ax.set_ylabel('y'); fig.savefig(r'{tmp_path / 'a.png'}')\n"
        f"fig, ax = plt.subplots(); ax.plot([1, 2]); fig.savefig(r'{tmp_path / 'b.png'}')\n"
    )
    result = _python(code, COURSE_FIGURE_LOG=str(log), COURSE_LESSON="99_demo", MPLBACKEND="Agg")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["axes"][0]["title"] for r in records] == ["labelled", ""]
    problems = course.plots.check_figures(log)
    assert problems and all(p.startswith("99_demo: figure 2 ('untitled')") for p in problems)
    assert any("no title" in p for p in problems)
    assert any("no x label" in p for p in problems) and any("no y label" in p for p in problems)
