"""A newcomer's path, checked without a browser: the README's Binder badge and app links point at files
that exist in the repository, binder/ builds the same environment as environment.yml, postBuild does
what it promises, and the student mode really switches nbgrader's instructor tools off."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.helpers import ROOT

README = (ROOT / "README.md").read_text()
BINDER_LINK = re.compile(r"\((https://mybinder\.org/v2/gh/[^)\s]+)\)")
APPS = ("draw_a_digit", "convolution_explorer", "style_a_photo")
VENV_BIN = Path(sys.executable).parent


def binder_links():
    """Every mybinder.org link of the README as (repository path, ref, urlpath)."""
    links = []
    for url in BINDER_LINK.findall(README):
        parsed = urlparse(url)
        parts = parsed.path.split("/")  # ['', 'v2', 'gh', owner, repo, ref]
        assert len(parts) == 6 and all(parts[3:]), f"not a mybinder /v2/gh/<owner>/<repo>/<ref> URL: {url}"
        urlpaths = parse_qs(parsed.query).get("urlpath")
        assert urlpaths and len(urlpaths) == 1, f"{url} has no single urlpath"
        links.append(("/".join(parts[3:5]), parts[5], urlpaths[0]))
    return links


def test_binder_badge_opens_lesson_01_in_jupyterlab():
    badge = re.search(r"\[!\[Binder\]\(https://mybinder\.org/badge_logo\.svg\)\]\((\S+?)\)", README)
    assert badge, "README has no Binder badge"
    assert README.index(badge.group(0)) < README.index("## "), "the badge belongs at the top of the README"
    urlpath = parse_qs(urlparse(badge.group(1)).query)["urlpath"][0]
    assert urlpath == "lab/tree/lessons/01_tensors_graphs_sessions.ipynb"
    assert (ROOT / urlpath.removeprefix("lab/tree/")).is_file()


def test_binder_links_resolve_to_files_in_the_repository():
    links = binder_links()
    assert len({(repo, ref) for repo, ref, _ in links}) == 1, f"links to different repositories: {links}"
    rendered = set()
    for _repo, _ref, urlpath in links:
        for prefix in ("lab/tree/", "voila/render/"):
            if urlpath.startswith(prefix):
                target = ROOT / urlpath.removeprefix(prefix)
                assert target.is_file(), f"{urlpath} points at {target}, which does not exist"
                if prefix == "voila/render/":
                    rendered.add(target.relative_to(ROOT).as_posix())
                break
        else:
            raise AssertionError(f"urlpath {urlpath!r} opens neither lab/tree/ nor voila/render/")
    assert rendered == {f"apps/{name}.ipynb" for name in APPS}, "one README link per app"


def test_app_notebooks_are_stored_without_outputs():
    for name in APPS:
        notebook = json.loads((ROOT / "apps" / f"{name}.ipynb").read_text())
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, f"{name} has outputs"


def test_readme_names_the_commands():
    for command in ("make course", "make test", "make apps"):
        assert f"`{command}" in README, f"README does not mention {command}"
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^apps:", makefile, re.M)
    assert "scripts/install-chromium.sh" in makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]


def test_binder_builds_the_top_level_environment():
    """repo2docker reads only binder/ once that folder exists, so binder/environment.yml must be the
    top-level file (a link, so the two can never differ)."""
    link = ROOT / "binder" / "environment.yml"
    assert link.is_symlink() and os.readlink(link) == "../environment.yml"
    assert link.read_text() == (ROOT / "environment.yml").read_text()
    for name in ("requirements.txt", "Dockerfile"):
        assert not (ROOT / "binder" / name).exists(), f"binder/{name} would change what Binder builds"
    # One system package and no Python: bubblewrap, for the grading sandbox in the course image
    # that deploy/kubernetes runs formgrader from.
    assert (ROOT / "binder" / "apt.txt").read_text().split() == ["bubblewrap"]


def test_postbuild_installs_the_course_switches_to_student_mode_and_prefetches_data():
    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"
    commands = [line.strip() for line in post_build.read_text().splitlines()
                if line.strip() and not line.strip().startswith("#")]
    assert commands[:2] == ["set -euo pipefail", 'cd "$(dirname "${BASH_SOURCE[0]}")/.."']
    assert commands[2:] == ["python -m pip install --no-deps --no-cache-dir .",
                            "bash binder/nbgrader-student-mode", "course data fetch"]
    check = subprocess.run(["bash", "-n", str(post_build)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


@pytest.mark.slow
def test_student_mode_switches_instructor_tools_off(tmp_path):
    """Run binder/nbgrader-student-mode (user level, in a throwaway config folder) and read back what
    JupyterLab and the Jupyter server will load."""
    path = f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path), PATH=path)
    run = subprocess.run(["bash", str(ROOT / "binder" / "nbgrader-student-mode"), "--user"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr

    page_config = json.loads((tmp_path / "labconfig" / "page_config.json").read_text())
    instructor = {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                  "@jupyter/nbgrader:course-list"}
    assert {name for name, off in page_config["disabledExtensions"].items() if off} == instructor
    assert instructor <= set(page_config.get("lockedExtensions", {}))

    probe = ("from jupyter_server.serverapp import ServerApp\n"
             "app = ServerApp.instance()\n"
             "app.initialize(argv=['--port=0', '--ServerApp.open_browser=False'])\n"
             "import json; print('EXTENSIONS', json.dumps({k.rsplit('.', 1)[1]: v\n"
             "    for k, v in app.jpserver_extensions.items() if k.startswith('nbgrader.')}))\n")
    server = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                            timeout=300, cwd=tmp_path)
    line = next((x for x in server.stdout.splitlines() if x.startswith("EXTENSIONS ")), None)
    assert line, server.stdout + server.stderr
    assert json.loads(line.split(" ", 1)[1]) == {"formgrader": False, "course_list": False,
                                                 "assignment_list": True, "validate_assignment": True}
