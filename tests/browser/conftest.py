"""Fixtures for the browser tests: the system Chromium driven by Playwright, the README's servers.

The tests drive the system Chromium through the `browser` fixture of tests/conftest.py (shared with
tests/hub); where Chromium is missing, every test that needs it is skipped with the reason the installer
gave; nothing else skips.

Servers are started the way the README says (`make course PORT=...`, `make apps APPS_PORT=...`), once per
session, on free ports, and stopped at the end. JupyterLab runs with a throwaway settings folder that
turns autosave off, so running lesson 01 in the browser never writes outputs into the repository.
Screenshots go to runs/screenshots/ (ignored by git), one per test, named after what they show.
"""

import json
import os

import pytest

from tests.browser.helpers import ROOT, Server, free_port


def _server_env():
    """The servers' environment: the shared datasets, fast mode (lesson 01 in seconds), tfcore."""
    env = dict(os.environ)
    env.setdefault("TFCORE_DATASETS", str(ROOT.parent / "shared" / "datasets"))
    env["COURSE_FAST"] = "1"
    env["COURSE_ENGINE"] = "tfcore"
    return env


@pytest.fixture(scope="session")
def course_server(tmp_path_factory):
    """`make course PORT=<free>` (the README's command), with autosave off; yields the `Server`."""
    settings = tmp_path_factory.mktemp("jupyterlab-settings")
    docmanager = settings / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)
    (docmanager / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    # No news or update pop-ups over the screenshots.
    apputils = settings / "@jupyterlab" / "apputils-extension"
    apputils.mkdir(parents=True)
    (apputils / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # Every cell in the page (no windowing), so the test sees each cell's prompt and output.
    notebook = settings / "@jupyterlab" / "notebook-extension"
    notebook.mkdir(parents=True)
    (notebook / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = _server_env()
    env["JUPYTERLAB_SETTINGS_DIR"] = str(settings)
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(tmp_path_factory.mktemp("jupyterlab-workspaces"))
    port = free_port()
    server = Server(["make", "--no-print-directory", "course", f"PORT={port}"], env,
                    rf"http://127\.0\.0\.1:{port}/\S*\?token=\w+", "make course")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def apps_server():
    """`make apps APPS_PORT=<free>` (the README's command); yields the `Server`."""
    port = free_port()
    server = Server(["make", "--no-print-directory", "apps", f"APPS_PORT={port}"], _server_env(),
                    rf"^http://127\.0\.0\.1:{port}/(?=\s*$)", "make apps")
    yield server
    server.stop()


@pytest.fixture
def page(browser):
    """A fresh browser page (1280 x 900); page errors are collected in `page.errors`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.set_default_timeout(60_000)
    yield page
    context.close()

