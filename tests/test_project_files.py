"""The project skeleton: pins agree between pyproject.toml and environment.yml, CI runs `make test`,
and the layout of DESIGN.md exists."""

import os
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Folders of the layout (DESIGN.md, "Top level"), each with a README.md saying what lives there.
LAYOUT_WITH_README = ["lessons", "exercises", "grading", "apps", "binder", "benchmarks", "course", "tests"]

_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(==|>=|<=|~=|!=|>|<)\s*([^\s;#]+)")


def _normalize(name):
    """PEP 503 name normalization, so that `Foo_Bar` and `foo-bar` compare equal."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _parse_requirement(text):
    m = _REQ.match(text)
    assert m, f"cannot read requirement {text!r}"
    return _normalize(m.group(1)), m.group(2), m.group(3)


def _pins(requirements):
    """{name: version} for a list of requirement strings, each of which must be an exact `==` pin."""
    pins = {}
    for req in requirements:
        name, op, version = _parse_requirement(req)
        assert op == "==", f"{req!r} is not pinned with =="
        assert name not in pins, f"{name} listed twice"
        pins[name] = version
    return pins


def _pyproject():
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def _environment_yml(text):
    """A small line parser for environment.yml (no PyYAML): returns (top-level scalars,
    channels, conda dependencies, pip requirements)."""
    scalars, channels, conda_deps, pip_reqs = {}, [], [], []
    section = None  # "channels", "dependencies" or "pip"
    pip_indent = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        stripped = line.strip()
        if indent == 0:
            key, _, value = stripped.partition(":")
            section = key if not value.strip() else None
            if value.strip():
                scalars[key] = value.strip()
            continue
        if section == "pip" and indent <= pip_indent:
            section = "dependencies"
        if not stripped.startswith("- "):
            raise AssertionError(f"environment.yml: unexpected line {raw!r}")
        item = stripped[2:].strip()
        if section == "channels":
            channels.append(item)
        elif section == "dependencies":
            if item == "pip:":
                section, pip_indent = "pip", indent
            else:
                conda_deps.append(item)
        elif section == "pip":
            pip_reqs.append(item)
        else:
            raise AssertionError(f"environment.yml: list item outside a known section: {raw!r}")
    return scalars, channels, conda_deps, pip_reqs


def _pin_mismatches(env_pip_reqs, pyproject):
    """What differs between environment.yml's pip pins and pyproject's runtime + course pins."""
    project = pyproject["project"]
    wanted = _pins(project["dependencies"]) | _pins(project["optional-dependencies"]["course"])
    env_pins = _pins(env_pip_reqs)
    problems = []
    # every pin in environment.yml equals pyproject's pin for the same package ...
    for name, version in env_pins.items():
        if name not in wanted:
            problems.append(f"environment.yml pins {name}, which pyproject's runtime/course lists lack")
        elif version != wanted[name]:
            problems.append(f"{name}: environment.yml has {version}, pyproject.toml has {wanted[name]}")
    # ... and every runtime + course pin of pyproject appears in environment.yml.
    for name in sorted(set(wanted) - set(env_pins)):
        problems.append(f"environment.yml lacks {name}=={wanted[name]}")
    return problems


def test_pyproject_pins_are_exact():
    project = _pyproject()["project"]
    assert project["requires-python"] == ">=3.11"
    runtime = _pins(project["dependencies"])
    assert set(runtime) == {"numpy", "pooch", "threadpoolctl", "tqdm"}
    extras = project["optional-dependencies"]
    course = _pins(extras["course"])
    assert set(course) == {
        "jupyterlab", "ipywidgets", "matplotlib", "ipykernel", "nbclient", "nbformat",
        "h5py", "scipy", "ipycanvas", "nbgrader", "psutil", "voila", "jupyterhub",
    }
    # The class hub's extra (deploy/hub): exact pins, the same jupyterhub as a student's server.
    hub = _pins(extras["hub"])
    assert set(hub) == {"jupyterhub", "jupyterhub-nativeauthenticator", "jupyterhub-ltiauthenticator",
                        "jupyterhub-idle-culler", "jupyterhub-systemdspawner"}
    assert hub["jupyterhub"] == course["jupyterhub"]
    # The optional GPU extra: CuPy, exactly pinned.
    assert _pins(extras["gpu"]) == {"cupy-cuda12x": _pins(extras["gpu"])["cupy-cuda12x"]}
    dev_specs = {}
    for req in extras["dev"]:
        name, op, version = _parse_requirement(req)
        dev_specs[name] = (op, version)
    # The reference engine is pinned to the 2.21 series, exactly this spec.
    assert "tensorflow-cpu==2.21.*" in [r.replace(" ", "") for r in extras["dev"]]
    assert dev_specs.pop("tensorflow-cpu") == ("==", "2.21.*")
    for name, (op, _version) in dev_specs.items():
        assert op == "==", f"dev extra {name} is not pinned with =="
    assert dev_specs["tensorboard"][1].startswith("2.21.")
    # dev carries everything in course (tests execute the notebooks), at the same versions.
    for name, version in course.items():
        assert dev_specs.get(name) == ("==", version), f"dev extra lacks course pin {name}=={version}"
    for tool in ("pytest", "pytest-xdist", "pytest-timeout", "ruff", "playwright"):
        assert tool in dev_specs


def test_environment_yml_matches_pyproject():
    scalars, channels, conda_deps, pip_reqs = _environment_yml((ROOT / "environment.yml").read_text())
    assert scalars.get("name") == "tf-course"
    assert channels == ["conda-forge"]
    assert "python=3.11" in conda_deps
    assert "pip" in conda_deps
    assert _pin_mismatches(pip_reqs, _pyproject()) == []


def test_pin_check_sees_drift():
    """Guard the hand-written parser and the comparison: a drifted or missing pin is reported."""
    text = (ROOT / "environment.yml").read_text()
    drifted = re.sub(r"numpy==[^\s#]+", "numpy==0.0.1", text)
    assert drifted != text
    assert any("numpy" in p for p in _pin_mismatches(_environment_yml(drifted)[3], _pyproject()))
    dropped = re.sub(r"^.*- tqdm==.*$", "", text, flags=re.M)
    assert dropped != text
    assert any("lacks tqdm" in p for p in _pin_mismatches(_environment_yml(dropped)[3], _pyproject()))


def test_ci_run_calls_make_test():
    ci = ROOT / ".ci" / "run"
    assert ci.is_file()
    assert os.access(ci, os.X_OK), ".ci/run must be executable"
    text = ci.read_text()
    assert text.startswith("#!/usr/bin/env bash") or text.startswith("#!/bin/bash")
    assert "set -euo pipefail" in text
    commands = [
        line.strip() for line in text.splitlines()[1:] if line.strip() and not line.strip().startswith("#")
    ]
    commands = [c for c in commands if c != "set -euo pipefail" and not c.startswith("cd ")]
    assert commands == ["make test"]


def test_makefile_targets():
    text = (ROOT / "Makefile").read_text()
    for target in ("course", "test", "lint", "clean"):
        assert re.search(rf"^{target}:", text, re.M), f"Makefile lacks target {target}"


@pytest.mark.parametrize("folder", LAYOUT_WITH_README)
def test_layout_folder_exists_with_readme(folder):
    assert (ROOT / folder).is_dir(), f"{folder}/ is missing"
    readme = ROOT / folder / "README.md"
    assert readme.is_file(), f"{folder}/README.md is missing"
    assert readme.read_text().strip()


def test_top_level_files_exist():
    for name in ("README.md", "pyproject.toml", "environment.yml", "Makefile", ".gitignore"):
        assert (ROOT / name).is_file(), f"{name} is missing"
    assert (ROOT / "tfcore").is_dir()
