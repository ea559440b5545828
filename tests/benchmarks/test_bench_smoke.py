"""The benchmark command runs and writes its JSON in the documented shape, and its machinery works for
real: the competing process is started and gone afterwards, the quota workers run in their cgroups
(or the condition is skipped, saying why), the workers run without the OpenBLAS overrides. No timing
is checked here: timing goals live in the benchmark itself (benchmarks/README.md)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import conditions, goals, report, run, timed, workers

ROOT = Path(__file__).resolve().parents[2]
ENGINES = {"tfcore", "tensorflow", "torch"}
OVERRIDES = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "512"}
BLAS_FIELDS = {"internal_api", "version", "architecture", "num_threads", "threading_layer"}


def _check_cell(cell):
    assert isinstance(cell, dict)
    assert {"value", "na", "error", "skipped"} & set(cell), cell
    if "value" in cell:
        assert isinstance(cell["value"], float) and cell["value"] > 0
        assert cell["samples"] and all(isinstance(v, float) for v in cell["samples"])


def _gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One real quick run of tiny_run in all three conditions, with the OpenBLAS overrides set."""
    out = tmp_path_factory.mktemp("bench") / "latest.json"
    readme_before = (ROOT / "benchmarks" / "README.md").read_text()
    done = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--only", "tiny_run",
                           "--repeats", "2", "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **OVERRIDES})
    assert done.returncode == 0, done.stderr[-2000:]
    assert (ROOT / "benchmarks" / "README.md").read_text() == readme_before  # only full runs write it
    return done.stdout, json.loads(out.read_text())


def test_quick_run_writes_the_json(quick_run):
    stdout, document = quick_run
    for word in ("tfcore/TF", "quiet", "competing process", "one-CPU quota", "steadiness", "tiny_run"):
        assert word in stdout
    assert document["schema"] == run.SCHEMA == 2
    for key in ("cpu_model", "cores", "ram_gib", "python", "numpy", "tensorflow", "torch", "date"):
        assert key in document["machine"]
    settings = document["settings"]
    assert settings["quick"] is True and settings["conditions"] == ["quiet", "competing", "quota"]
    assert settings["environment"]["TF_ENABLE_ONEDNN_OPTS"] == "1"
    assert settings["blas_overrides_removed"] == OVERRIDES
    [row] = document["workloads"]
    assert row["name"] == "tiny_run" and row["unit"] == "us" and row["kind"] == "timed"
    assert list(row["conditions"]) == ["quiet", "competing", "quota"]
    for entry in row["conditions"].values():
        assert set(entry["results"]) == ENGINES
        for cell in entry["results"].values():
            _check_cell(cell)
    quiet = row["conditions"]["quiet"]
    assert "value" in quiet["results"]["tfcore"], quiet["results"]["tfcore"]
    assert "value" in row["conditions"]["competing"]["results"]["tfcore"]
    assert quiet["goal"] == {"kind": "ratio_at_most", "value": 0.2, "text": "<= 0.2"}
    assert row["conditions"]["competing"]["goal"] is None
    if "value" in quiet["results"]["tensorflow"]:
        tf_value = quiet["results"]["tensorflow"]["value"]
        assert quiet["ratio"] == pytest.approx(quiet["results"]["tfcore"]["value"] / tf_value)
        assert quiet["goal_met"] is (quiet["ratio"] <= 0.2)
    steadiness = row["steadiness"]
    assert steadiness["tfcore"] == pytest.approx(row["conditions"]["competing"]["results"]["tfcore"]["value"]
                                                 / quiet["results"]["tfcore"]["value"])
    assert steadiness["goal"]["value"] == 1.5


def test_the_competing_process_ran_and_is_gone(quick_run):
    _, document = quick_run
    processes = document["conditions"]["competing"]["processes"]
    assert [p["workload"] for p in processes] == ["tiny_run"]
    for process in processes:
        assert process["stopped"] is True and process["returncode"] is not None
        assert process["cpu_seconds"] is not None
        assert _gone(process["pid"])


def test_the_workers_run_without_the_openblas_overrides(quick_run):
    _, document = quick_run
    reported = [info for by_engine in document["workers"].values() for info in by_engine.values()]
    assert reported, document["workers"]
    for info in reported:
        for name in OVERRIDES:
            assert info["environment"][name] is None
        assert isinstance(info["blas_after_import"], list)  # threadpoolctl's view of the loaded BLAS
        for library in info["blas_after_import"]:
            assert BLAS_FIELDS <= set(library)
        assert all("blas" in step for step in info["after_first_step"].values())
        assert _gone(info["pid"])


def test_the_quota_ran_in_cgroups_or_was_skipped(quick_run):
    _, document = quick_run
    quota = document["conditions"]["quota"]
    cells = document["workloads"][0]["conditions"]["quota"]["results"]
    if "skipped" in quota:
        assert quota["skipped"]
        assert all(cell == {"skipped": quota["skipped"]} for cell in cells.values())
        return
    assert "value" in cells["tfcore"], cells["tfcore"]
    in_quota = document["workers"]["quota"]
    assert {"tfcore", "tensorflow"} <= set(in_quota)
    for info in in_quota.values():
        directory = Path(info["cgroup_dir"])
        assert info["in_cgroup"] is True
        assert any(line.endswith(":/" + directory.name) for line in info["cgroup"].splitlines())
        assert not directory.exists()  # removed after the worker exited
    assert quota["cgroups"] and all(record["removed"] for record in quota["cgroups"])


def test_child_environment_drops_the_openblas_overrides(monkeypatch):
    for name, value in OVERRIDES.items():
        monkeypatch.setenv(name, value)
    env = workers.child_environment()
    assert not set(OVERRIDES) & set(env)
    assert env["TF_ENABLE_ONEDNN_OPTS"] == "1" and os.environ["OPENBLAS_CORETYPE"] == "Haswell"


def test_the_competing_process_is_stopped_when_the_block_fails():
    log = []
    with pytest.raises(RuntimeError), conditions.competing_load(log, "x"):
        raise RuntimeError("interrupted")
    [entry] = log
    assert entry["stopped"] and _gone(entry["pid"])


def test_no_cgroup_means_the_quota_is_skipped(tmp_path):
    mounts = tmp_path / "mounts"
    mounts.write_text("proc /proc proc rw 0 0\n")
    assert conditions.CpuQuota(str(mounts)).reason == "no cgroup filesystem is mounted"
    ctx = run.Context(run.parse_args(["--quick", "--conditions", "quota", "--engines", "tfcore,tensorflow"]))
    ctx.quota.reason = "no cgroup filesystem is mounted"
    cells = timed.run_timed(run.BY_NAME["tiny_run"], ctx)
    assert list(cells) == ["quota"]
    assert cells["quota"]["tfcore"] == {"skipped": "no cgroup filesystem is mounted"}
    row = goals.evaluate(run.BY_NAME["tiny_run"], cells)
    assert row["conditions"]["quota"]["skipped"] and row["steadiness"] is None
    assert "skipped: no cgroup filesystem is mounted" in report.text_table([row], ["quota"])


def test_the_cgroup_hierarchy_is_found(tmp_path):
    unified = tmp_path / "unified"
    unified.mkdir()
    (unified / "cgroup.controllers").write_text("memory pids\n")
    (unified / "cgroup.subtree_control").write_text("")
    mounts = tmp_path / "mounts"
    mounts.write_text(f"cgroup2 {unified} cgroup2 rw 0 0\n")
    assert conditions.find_hierarchy(str(mounts)) == (
        None, None, f"cgroup2 at {unified} has no cpu controller; no cgroup v1 cpu hierarchy")
    mounts.write_text(f"cgroup2 {unified} cgroup2 rw 0 0\ncgroup {tmp_path} cgroup rw,cpu,cpuacct 0 0\n")
    assert conditions.find_hierarchy(str(mounts)) == (str(tmp_path), "v1", None)
    (unified / "cgroup.controllers").write_text("cpu memory\n")
    assert conditions.find_hierarchy(str(mounts)) == (str(unified), "v2", None)
    assert (unified / "cgroup.subtree_control").read_text() == "+cpu"  # enabled for the children


def test_quick_skips_the_subprocess_workloads_and_opt_ins():
    names = [w.name for w in run.selected_workloads(run.parse_args(["--quick"]))]
    assert names == ["mlp_step", "lenet_train", "lenet_infer", "tiny_run", "style_256"]
    names = [w.name for w in run.selected_workloads(run.parse_args([]))]
    assert "import_time" in names and "lenet_peak_memory" in names
    assert "mnist_lesson" not in names and "style_512_memory" not in names
    names = [w.name for w in run.selected_workloads(run.parse_args(["--full-lesson", "--big"]))]
    assert names[-2:] == ["mnist_lesson", "style_512_memory"]
    names = [w.name for w in run.selected_workloads(run.parse_args(["--conditions", "competing"]))]
    assert "import_time" not in names and "tiny_run" in names  # one-off workloads: quiet only
    assert run.parse_args(["--conditions", "quota,quiet"]).conditions == ("quiet", "quota")
    assert run.parse_args(["--quick"]).conditions == conditions.CONDITIONS
    with pytest.raises(SystemExit):
        run.selected_workloads(run.parse_args(["--only", "no_such_workload"]))
    with pytest.raises(SystemExit):
        run.parse_args(["--conditions", "loud"])


def _rows():
    three = {"quiet": {"tfcore": {"value": 3.0}, "tensorflow": {"value": 4.0}, "torch": {"na": "-"}},
             "competing": {"tfcore": {"value": 6.0}, "tensorflow": {"value": 5.0}, "torch": {"na": "-"}},
             "quota": {"tfcore": {"value": 3.5}, "tensorflow": {"value": 4.0}, "torch": {"na": "-"}}}
    lenet = goals.evaluate(run.BY_NAME["lenet_train"], three)
    big = goals.evaluate(run.BY_NAME["style_512_memory"], {"quiet": {
        "tfcore": {"value": 5000.0}, "tensorflow": {"error": "x"}, "torch": {"na": "-"}}})
    return lenet, big


def test_rows_goals_and_steadiness():
    lenet, big = _rows()
    assert lenet["conditions"]["quiet"]["ratio"] == 0.75 and lenet["conditions"]["quiet"]["goal_met"] is True
    assert lenet["conditions"]["competing"]["goal_met"] is False  # 1.2 > 1.0
    assert lenet["conditions"]["quota"]["goal"]["value"] == 1.0
    assert lenet["steadiness"]["tfcore"] == 2.0 and lenet["steadiness"]["goal_met"] is False
    assert lenet["steadiness"]["tensorflow"] == 1.25
    assert lenet["goals"] == {"met": ["quiet", "quota"], "missed": ["competing", "steadiness"], "unknown": []}
    assert big["conditions"]["quiet"]["ratio"] is None and big["conditions"]["quiet"]["goal_met"] is False
    assert big["steadiness"] is None


def test_tables_and_readme(tmp_path):
    lenet, big = _rows()
    conds = list(conditions.CONDITIONS)
    text = report.text_table([lenet, big], conds)
    assert "0.75 (<= 0.9)" in text and "2.00 (<= 1.5)" in text and "2 of 4" in text
    assert "PyTorch" not in text  # no PyTorch value: no PyTorch columns
    assert "error" in report.markdown_table([big], conds)

    readme = tmp_path / "README.md"
    readme.write_text(f"head\n{report.README_START}\nold\n{report.README_END}\ntail\n")
    machine = {"cpu_model": "cpu", "cores": 2, "ram_gib": 4.0, "platform": "Linux", "python": "3.11",
               "numpy": "2", "numpy_blas": None, "tensorflow": None, "torch": None, "tfcore": "0.1.0",
               "date": "2025-01-01T00:00:00+00:00"}
    settings = {"load_start": [1, 1, 1], "load_end": [1, 1, 1], "seconds": 1.0, "command": "x",
                "conditions": conds, "blas_overrides_removed": OVERRIDES}
    blas = [{"internal_api": "openblas", "version": "0.3", "architecture": "SkylakeX", "num_threads": 2,
             "threading_layer": "pthreads"}]
    record = {"quiet": {"tfcore": {"blas_after_import": blas, "after_first_step": {
        "lenet_train": {"blas": blas, "session_threads": {"intra_op": 2, "inter_op": 2, "blas": 1}}}}}}
    quota = {"skipped": "no cgroup"}
    report.update_readme({"machine": machine, "settings": settings, "workloads": [lenet, big], "profiles": {},
                          "workers": record, "conditions": {"quiet": {}, "quota": quota}}, path=readme)
    text = readme.read_text()
    assert text.startswith("head\n") and text.endswith("tail\n") and "old" not in text
    assert "| lenet_train" in text and "| style_512_memory" in text and "quiet: tfcore/TF" in text
    assert "style_512_memory (quiet) on tensorflow: x" in text
    assert "openblas 0.3 SkylakeX, 2 threads (pthreads)" in text and "intra_op=2, inter_op=2, blas=1" in text
    assert "quota skipped: no cgroup" in text and "OPENBLAS_CORETYPE=Haswell" in text


def test_an_engine_that_is_not_installed_shows_na(monkeypatch):
    monkeypatch.setattr(run.engines, "available", lambda name: name != "torch")
    ctx = run.Context(run.parse_args(["--quick", "--conditions", "quiet",
                                      "--engines", "tfcore,tensorflow,torch"]))
    chosen = timed.available_engines(run.BY_NAME["tiny_run"], ctx)
    assert chosen == {"tfcore": None, "tensorflow": None, "torch": {"na": "torch is not installed"}}
    row = goals.evaluate(run.BY_NAME["tiny_run"], {"quiet": {
        "tfcore": {"value": 1.0}, "tensorflow": {"value": 10.0}, "torch": chosen["torch"]}})
    assert report.fmt_value(row["conditions"]["quiet"]["results"]["torch"]) == "n/a"
    assert row["conditions"]["quiet"]["goal_met"] is True


def test_compare_trees_times_two_trees_in_turns():
    # This tree against itself: both workers run, and each row has two medians and two ratios.
    done = subprocess.run([sys.executable, "-m", "benchmarks.compare_trees", str(ROOT), "tiny_run:2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    row = next(line for line in done.stdout.splitlines() if line.startswith("tiny_run"))
    numbers = [float(x) for x in row.replace("/", " ").split()[2:]]
    assert len(numbers) == 6 and all(n > 0 for n in numbers)
