"""The class hub from `make hub`: logins, one student's isolation from another, secrets across a restart,
and nbgrader's exchange filing each submission and each feedback under the real login."""

import json
import subprocess

import pytest
import requests

from tests.hub.helpers import (
    INSTRUCTOR,
    PASSWORDS,
    STATE,
    STUDENTS,
    ClassHub,
    KernelClient,
    Login,
    as_grader,
    run_as,
)

ADA, ALAN, GRACE = STUDENTS


def test_a_wrong_password_is_refused(hub, accounts):
    assert not Login(hub).log_in(ADA, "not-" + PASSWORDS[ADA])
    assert not Login(hub).log_in(ADA, "")
    assert Login(hub).log_in(ADA, PASSWORDS[ADA])


def test_only_the_roster_signs_up_and_students_wait_for_the_instructor(hub, accounts):
    stranger = Login(hub)
    assert "something went wrong" in stranger.sign_up("mallory", "Mallory-Pass-2468").lower()
    assert not stranger.log_in("mallory", "Mallory-Pass-2468")
    # A student on the roster who signed up but was not yet authorized cannot log in, nor can a
    # classmate claim an id that is taken.
    assert "already in use" in Login(hub).sign_up(ADA, "Someone-Else-2468").lower()
    assert not Login(hub).log_in(ADA, "Someone-Else-2468")
    assert hub.api("GET", "/users/mallory").status_code == 404


def test_the_hub_is_not_open(hub):
    """Without a login, the hub sends every page to the login form and the API refuses."""
    reply = Login(hub).get(f"/user/{ADA}/lab")
    assert "/hub/login" in reply.url
    assert hub.api("GET", "/users", token="not-a-token").status_code == 403


def test_a_student_cannot_open_another_students_server_or_files(hub, accounts):
    for name in (ADA, ALAN):
        hub.api("POST", f"/users/{name}/server")
        hub.wait_ready(name)
    reply = accounts[ALAN].get(f"/user/{ADA}/api/contents", allow_redirects=True)
    assert reply.status_code == 403 or f"/user/{ADA}/" not in reply.url, reply.url
    # Through the REST API with alan's own token: not ada's model, not her server.
    token = hub.user_token(ALAN)
    assert hub.api("GET", f"/users/{ADA}", token=token).status_code == 404
    assert hub.api("DELETE", f"/users/{ADA}/server", token=token).status_code in (403, 404)
    # From inside alan's own kernel: ada's home is closed to him, his own is his.
    kernel = KernelClient(hub, ALAN, token)
    try:
        status, text, error = kernel.run(f"import os\nprint(os.getuid(), os.listdir('/home/{ADA}'))")
        assert status == "error" and error.startswith("PermissionError"), (status, text, error)
        status, text, _ = kernel.run("import getpass, os\nprint(getpass.getuser(), os.path.isfile("
                                     "'lessons/01_tensors_graphs_sessions.ipynb'))")
        assert (status, text.split()) == ("ok", [ALAN, "True"])
        status, _, error = kernel.run(f"open('{STATE}/course/gradebook.db', 'rb')")
        assert error.startswith("PermissionError"), error
    finally:
        kernel.close()


def test_students_get_the_student_side_of_nbgrader_and_instructors_formgrader(hub, accounts):
    assert accounts[ADA].get("/services/tfcore-course/formgrader").status_code == 403
    reply = accounts[INSTRUCTOR].get("/services/tfcore-course/formgrader")
    assert reply.ok and "Manage Assignments" in reply.text, reply.url


@pytest.mark.slow
def test_the_exchange_files_work_under_the_real_login_and_feedback_goes_to_its_owner(hub, accounts):
    assignment = "03_loss_functions"
    as_grader("nbgrader", "generate_assignment", assignment)
    as_grader("nbgrader", "release_assignment", assignment)
    for name in (ADA, ALAN):
        for step in ("fetch_assignment", "submit"):
            done = run_as(name, "nbgrader", step, assignment)
            assert done.returncode == 0, done.stderr
    # A student cannot list the others' submissions in the exchange.
    assert run_as(GRACE, "ls", f"{STATE}/exchange/tfcore-course/inbound").returncode != 0
    as_grader("nbgrader", "collect", assignment)
    assert sorted(p.name for p in (STATE / "course" / "submitted").iterdir()) == [ADA, ALAN]
    log = as_grader("nbgrader", "autograde", assignment)
    assert "Grading in the bubblewrap sandbox" in log
    as_grader("nbgrader", "generate_feedback", assignment)
    as_grader("nbgrader", "release_feedback", assignment)
    for name in (ADA, ALAN, GRACE):
        run_as(name, "nbgrader", "fetch_feedback", assignment)
    found = {name: run_as(name, "find", ".", "-name", f"{assignment}.html").stdout.splitlines()
             for name in (ADA, ALAN, GRACE)}
    assert [len(found[ADA]), len(found[ALAN]), len(found[GRACE])] == [1, 1, 0], found


def test_secrets_are_made_once_and_survive_a_restart(hub, accounts):
    secrets = {name: (STATE / "state" / name).read_bytes()
               for name in ("jupyterhub_cookie_secret", "proxy-token", "admin-token")}
    assert all(len(value) >= 32 for value in secrets.values())
    assert all(oct((STATE / "state" / name).stat().st_mode)[-3:] == "600" for name in secrets)
    hub.restart()
    assert secrets == {name: (STATE / "state" / name).read_bytes() for name in secrets}
    assert hub.api("GET", "/users").ok  # the same admin token
    assert accounts[ADA].get("/hub/home").url.endswith("/hub/home")  # ada's cookie is still valid
    for value in secrets.values():  # and none of them is in the repository
        assert subprocess.run(["git", "grep", "-q", "-F", value.decode().strip()]).returncode == 1


LTI13 = {"issuer": "https://lms.example.edu", "client_id": ["tfcore-course-tool"],
         "authorize_url": "https://lms.example.edu/api/lti/authorize_redirect",
         "jwks_endpoint": "https://lms.example.edu/api/lti/security/jwks", "username_key": "custom_login"}


def test_the_hub_logs_in_from_an_lms_with_lti13_and_refuses_a_forged_launch():
    """HUB_AUTH=lti13 with HUB_STATE/lti13.json: the hub describes itself to the LMS as a tool, sends
    logins to the LMS's authorize URL, and refuses a launch that the LMS did not sign."""
    lti_hub = ClassHub(("ltit-ada",), "ltit-teach", STATE.with_name("tfcore-hub-test-lti"),
                       settings={"HUB_AUTH": "lti13"}, files={"lti13.json": json.dumps(LTI13)})
    try:
        config = requests.get(f"{lti_hub.url}/hub/lti13/config", timeout=30).json()
        assert config["oidc_initiation_url"].endswith("/hub/lti13/oauth_login"), config
        assert (config["title"], config["target_link_uri"]) == ("tfcore course", lti_hub.url), config
        launch = {"iss": LTI13["issuer"], "login_hint": "ltit-ada", "client_id": LTI13["client_id"][0],
                  "target_link_uri": f"{lti_hub.url}/hub/"}
        start = requests.post(f"{lti_hub.url}/hub/lti13/oauth_login", data=launch, timeout=30,
                              allow_redirects=False)
        assert start.status_code == 302 and start.headers["Location"].startswith(LTI13["authorize_url"])
        forged = requests.post(f"{lti_hub.url}/hub/lti13/oauth_callback", timeout=30,
                               data={"id_token": "e30.e30.", "state": "forged"})
        assert forged.status_code in (400, 401, 403), forged.status_code
        assert lti_hub.api("GET", "/users/ltit-ada").json().get("server") is None
    finally:
        lti_hub.close()
