"""The whole class cycle on the hub from `make hub`, in the system Chromium (Playwright).

The instructor releases an assignment in formgrader; three students log in, see lesson 01, fetch the
assignment from the Assignments tab, answer it (one fully, one partly, one not at all) and submit; the
hub restarts; the instructor collects, autogrades, generates and releases feedback in formgrader; each
student fetches their own feedback and sees their own score. Scores are read from the gradebook, the
CSV export is checked, and every step leaves a screenshot in runs/screenshots/hub-*.png.
"""

import contextlib
import csv
import json

import nbformat
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.browser.helpers import ROOT, screenshot
from tests.hub.helpers import INSTRUCTOR, PASSWORDS, STATE, STUDENTS, as_grader, run_as

ASSIGNMENT = "03_loss_functions"
FULL, PARTLY, BLANK = STUDENTS
# What each student types into the solution cells (by grade id), and the score that must earn.
ANSWERED = {FULL: ("cross_entropy", "mse", "softmax_xent", "stock_loss"), PARTLY: ("cross_entropy", "mse"),
            BLANK: ()}
EXPECTED = {FULL: 10.0, PARTLY: 5.0, BLANK: 0.0}
LAB_SETTINGS = {  # every cell in the page (no windowing), so the test finds each one
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}

pytestmark = pytest.mark.slow


def solutions():
    """grade id -> the answer a student types: the source cell without the solution markers."""
    source = nbformat.read(ROOT / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: "\n".join(
        line for line in cell.source.splitlines() if "### BEGIN SOLUTION" not in line
        and "### END SOLUTION" not in line)
        for cell in source.cells if cell.metadata.get("nbgrader", {}).get("solution")}


def write_lab_settings(name):
    """The student's own JupyterLab settings (written as them, in their home) before their first login."""
    for path, values in LAB_SETTINGS.items():
        target = f".jupyter/lab/user-settings/{path}"
        done = run_as(name, "sh", "-c", f"mkdir -p \"$(dirname '{target}')\" && cat > '{target}'",
                      input=json.dumps(values))
        assert done.returncode == 0, done.stderr


def open_as(browser, hub, name):
    """A new browser context logged in as `name` through the hub's login form; returns the page."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(120_000)
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", PASSWORDS[name])
    page.click("#login_submit")
    return page


def assignment_row(page):
    """The assignment's row in formgrader's "Manage Assignments" table."""
    return page.locator("tr", has=page.locator("td.name", has_text=ASSIGNMENT))


def formgrader_action(page, column, shot):
    """Clicks the formgrader button in `column` of the assignment's row; waits for its success dialog."""
    assignment_row(page).locator(f"td.{column} a").click()
    dialog = page.locator("#success-modal, #error-modal")
    dialog.wait_for()
    screenshot(page, shot)
    assert page.locator("#success-modal").count() == 1, dialog.inner_text()
    dialog.get_by_role("button", name="OK").click()
    dialog.wait_for(state="detached")


def assignments_tab(page):
    """Opens the Assignments tab (Nbgrader > Assignment List) in the student's JupyterLab and reloads
    its lists (a tab restored from the last session may show what it saw then)."""
    page.locator(".jp-NotebookPanel").first.wait_for()  # JupyterLab has loaded and restored its tabs
    page.get_by_text("Nbgrader", exact=True).click()
    page.get_by_text("Assignment List", exact=True).click()
    page.locator("#refresh_assignments_list:visible").click()


def in_assignments_tab(page, action, tries=6):
    """`action(timeout=...)` with the Assignments tab in front. JupyterLab may still be restoring the
    last session's tabs and bring one of them forward, hiding the lists: then the tab is brought
    back and the action tried again."""
    for attempt in range(tries):
        page.get_by_role("tab", name="Assignments").click()
        try:
            return action(timeout=20_000)
        except PlaywrightTimeoutError:
            if attempt == tries - 1:
                raise


@contextlib.contextmanager
def screenshot_on_failure(page, name):
    """Saves runs/screenshots/<name>-failed.png when the block fails, then lets the failure through."""
    try:
        yield
    except Exception:
        screenshot(page, f"{name}-failed")
        raise


def student_answers_and_submits(browser, hub, name, answers):
    """Lesson 01 opens; the student fetches the assignment, types their answers, saves and submits."""
    page = open_as(browser, hub, name)
    page.wait_for_url("**/lab/**")
    expect(page.locator(".jp-Notebook").first).to_contain_text("Tensors, graphs and sessions")
    screenshot(page, f"hub-{name}-lesson01")
    assignments_tab(page)
    page.get_by_role("button", name="Fetch").click()
    page.locator("a.assignment-notebooks-link", has_text=ASSIGNMENT).click()
    page.locator(f"#nbgrader-tfcore-course-{ASSIGNMENT} a[href='#']", has_text=ASSIGNMENT).click()
    notebook = page.locator(".jp-NotebookPanel:visible .jp-Notebook")
    notebook.wait_for()
    for grade_id in ANSWERED[name]:
        stub = notebook.locator(".jp-CodeCell", has_text=f"def {answers[grade_id].split('def ')[1][:12]}")
        stub.locator(".cm-content").first.click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(answers[grade_id])
    page.keyboard.press("Escape")
    page.keyboard.press("Control+S")
    page.wait_for_timeout(1500)
    screenshot(page, f"hub-{name}-answered")
    page.get_by_role("tab", name="Assignments").click()
    page.get_by_role("button", name="Submit").click()
    page.locator("#submitted_assignments_list .list_item", has_text=ASSIGNMENT).first.wait_for()
    screenshot(page, f"hub-{name}-submitted")
    page.context.close()


def instructor_grades(browser, hub):
    """Collect, autograde every submission, generate and release feedback, all in formgrader."""
    page = open_as(browser, hub, INSTRUCTOR)
    page.goto(f"{hub.url}/services/tfcore-course/formgrader")
    formgrader_action(page, "collect", "hub-formgrader-collect")
    assignment_row(page).locator("td.num-submissions a").click()
    for _ in STUDENTS:
        page.locator("td.autograde a").first.wait_for()
        rows = page.locator("tr", has=page.locator("td.autograde a"))
        pending = rows.filter(has=page.locator("td.status", has_text="needs autograding"))
        pending.first.locator("td.autograde a").click()
        page.locator("#success-modal, #error-modal").wait_for()
        assert page.locator("#success-modal").count() == 1, page.locator(".modal").inner_text()
        page.locator("#success-modal").get_by_role("button", name="OK").click()
        page.locator("#success-modal").wait_for(state="detached")
    screenshot(page, "hub-formgrader-autograded")
    page.goto(f"{hub.url}/services/tfcore-course/formgrader/manage_assignments")
    formgrader_action(page, "generate-feedback", "hub-formgrader-feedback")
    formgrader_action(page, "release-feedback", "hub-formgrader-release-feedback")
    page.context.close()


def student_reads_feedback(browser, hub, name):
    """Fetch Feedback in the Assignments tab; the feedback opens and shows the student's own score."""
    page = open_as(browser, hub, name)
    page.wait_for_url("**/lab/**")
    with screenshot_on_failure(page, f"hub-{name}-fetch-feedback"):
        assignments_tab(page)
        submitted = page.locator("#submitted_assignments_list:visible .list_item", has_text=ASSIGNMENT)
        in_assignments_tab(page, submitted.first.get_by_role("button", name="Fetch Feedback").click)
        in_assignments_tab(page, page.get_by_text("(view feedback)").first.wait_for)
    folder = f"tfcore-course/{ASSIGNMENT}/feedback"
    listing = page.request.get(f"{hub.url}/user/{name}/api/contents/{folder}").json()["content"]
    assert len(listing) == 1, listing  # one feedback: this student's own
    page.goto(f"{hub.url}/user/{name}/files/{listing[0]['path']}/{ASSIGNMENT}.html")
    text = page.locator("body").inner_text()
    screenshot(page, f"hub-{name}-feedback")
    keep_out(page, hub, name)
    page.context.close()
    return text


def keep_out(page, hub, name):
    """In the same browser, a classmate's JupyterLab, files and feedback and formgrader stay closed."""
    other = STUDENTS[(STUDENTS.index(name) + 1) % len(STUDENTS)]
    for path in (f"/user/{other}/lab", f"/user/{other}/api/contents/tfcore-course/{ASSIGNMENT}/feedback",
                 f"/user/{other}/files/tfcore-course/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
                 "/services/tfcore-course/formgrader"):
        response = page.goto(f"{hub.url}{path}")
        assert response.status in (403, 404), (name, path, response.status, page.url)
        assert page.locator(".jp-LabShell").count() == 0
    screenshot(page, f"hub-{name}-kept-out")


def gradebook_scores():
    """student id -> score of the assignment, read from the course's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{STATE}/course/gradebook.db") as gradebook:
        return {name: gradebook.find_submission(ASSIGNMENT, name).score for name in STUDENTS}


def test_a_class_cycle_in_the_browser(browser, hub, accounts):
    for name in STUDENTS:
        write_lab_settings(name)
    page = open_as(browser, hub, INSTRUCTOR)
    page.goto(f"{hub.url}/services/tfcore-course/formgrader")
    formgrader_action(page, "assign", "hub-formgrader-generate")
    formgrader_action(page, "release", "hub-formgrader-release")
    page.context.close()
    answers = solutions()
    for name in STUDENTS:
        student_answers_and_submits(browser, hub, name, answers)
    hub.restart()  # after the submissions, before grading: nothing may be lost
    instructor_grades(browser, hub)
    assert gradebook_scores() == EXPECTED
    for name in STUDENTS:
        feedback = student_reads_feedback(browser, hub, name)
        assert f"{ASSIGNMENT} (Score: {EXPECTED[name]} / 10.0)" in feedback, feedback[:500]
        assert "BEGIN HIDDEN TESTS" not in feedback
    as_grader("nbgrader", "export")
    with open(STATE / "course" / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert rows == EXPECTED
