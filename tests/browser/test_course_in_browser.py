"""The README's course command in a real browser: `make course` answers at the URL it prints, and in
JupyterLab lesson 01 opens, runs every cell without an error and shows its figure."""

import json
import re
import time

import pytest

from tests.browser.helpers import ROOT, screenshot, wait_for, wait_until_answers

pytestmark = pytest.mark.slow

LESSON = "lessons/01_tensors_graphs_sessions.ipynb"
RUN_SECONDS = 180

# Per code cell: "done" (an execution count), "running" ([*]) or "waiting" ([ ]), read from the prompts.
_CELL_STATES = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell')).map(cell => {
    const prompt = cell.querySelector('.jp-InputArea-prompt');
    const text = prompt ? prompt.textContent.trim() : '';
    return /\\[\\d+\\]/.test(text) ? 'done' : text.includes('*') ? 'running' : 'waiting';
})"""


def test_make_course_answers_at_its_printed_url(page, course_server):
    url = course_server.url()
    assert re.search(r"/lab/tree/lessons/01_tensors_graphs_sessions\.ipynb\?token=", url), url
    body = wait_until_answers(url)
    assert "JupyterLab" in body
    printed = "\n".join(course_server.lines)
    assert "Course: http://127.0.0.1:" in printed and LESSON in printed
    page.goto(url)  # the printed link opens JupyterLab on lesson 01
    tab = page.locator(".lm-TabBar-tab.jp-mod-current .lm-TabBar-tabLabel")
    tab.wait_for()
    wait_for(lambda: tab.inner_text().strip() == "01_tensors_graphs_sessions.ipynb", 60, "lesson 01's tab")
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-MarkdownCell")
    screenshot(page, "jupyterlab_make_course_opens_lesson01")
    assert not page.errors, page.errors


def test_lesson01_runs_in_jupyterlab_and_shows_its_figure(page, course_server):
    lesson_file = ROOT / LESSON
    stored = lesson_file.read_bytes()
    code_cells = sum(cell["cell_type"] == "code" for cell in json.loads(stored)["cells"])
    page.goto(course_server.url())
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-CodeCell")
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
    wait_for(lambda: len(page.evaluate(_CELL_STATES)) == code_cells, 60, f"the {code_cells} code cells")
    assert "done" not in page.evaluate(_CELL_STATES), "lesson 01 is stored with execution counts"

    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

    # Wait until every cell ran, or the kernel has been idle for a while after starting (an error stops
    # Run All; the assertions below then say which), or the time is up.
    deadline = time.monotonic() + RUN_SECONDS
    started, idle_since = False, None
    while time.monotonic() < deadline:
        states = page.evaluate(_CELL_STATES)
        if all(state == "done" for state in states):
            break
        started = started or "done" in states
        idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count() > 0
        idle_since = (idle_since or time.monotonic()) if idle else None
        if started and idle_since and time.monotonic() - idle_since > 5:
            break
        time.sleep(0.5)

    outputs = page.locator(".jp-OutputArea-output")
    texts = outputs.all_inner_texts()
    errors = [t for t in texts if "Traceback" in t or re.search(r"^\w+Error\b.*Traceback", t, re.M)]
    figure = page.locator(".jp-OutputArea-output img")
    if figure.count():
        figure.first.scroll_into_view_if_needed()
        time.sleep(0.5)
    shot = screenshot(page, "jupyterlab_lesson01_after_run_all")
    states = page.evaluate(_CELL_STATES)
    assert not errors, f"error output in lesson 01 (see {shot.name}):\n" + "\n---\n".join(errors)
    assert states.count("done") == len(states), (f"not every cell ran within {RUN_SECONDS} s "
                                                 f"(see {shot.name}): {states}")
    assert figure.count() >= 1, f"lesson 01 shows no figure (see {shot.name})"
    width = figure.first.evaluate("img => img.naturalWidth")
    assert width > 100, f"the figure is {width} pixels wide"
    assert not page.errors, page.errors
    assert lesson_file.read_bytes() == stored, "running the lesson in the browser changed the file on disk"
