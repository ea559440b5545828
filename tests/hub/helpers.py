"""The class hub under test: started by the README's `make hub`, with test users, driven over HTTP.

`ClassHub` starts `make hub` on free loopback ports with its own state folder and roster, and removes
what it created (system users, homes, the state folder) when it stops for good. `Login` is one
person's browser-less session (sign-up and login forms, cookies, XSRF). `KernelClient` runs code in a
user's own server through the Jupyter server's kernel API and websocket, as JupyterLab does.
"""

import json
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import requests

from tests.browser.helpers import ROOT, Server, free_port, wait_for

PREFIX = Path("/opt/tfcore-hub")  # make hub's default: the hub's software, shared by every run
STATE = Path("/srv/tfcore-hub-test")  # not under /tmp/pytest-of-root: students must traverse it
STUDENTS = ("hubt-ada", "hubt-alan", "hubt-grace")
INSTRUCTOR = "hubt-teach"
PASSWORDS = {name: f"{name}-Pass-2468" for name in (*STUDENTS, INSTRUCTOR)}
SETUP_SECONDS = 1200  # the first `make hub` installs the hub's venv from the package index


def remove_users(names):
    """Stops every process of these system users and deletes them and their homes. userdel refuses
    while a process of the user still runs, so it is retried for up to 30 s."""
    for name in names:
        deadline = time.monotonic() + 30
        while subprocess.run(["id", "-u", name], capture_output=True).returncode == 0:
            subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
            time.sleep(0.2)
            done = subprocess.run(["userdel", "--remove", name], capture_output=True, text=True)
            assert done.returncode == 0 or time.monotonic() < deadline, f"userdel {name}: {done.stderr}"
        shutil.rmtree(Path("/home") / name, ignore_errors=True)


def run_as(name, *command, cwd=None, side="student", **kwargs):
    """`command` as the system user `name` with the environment the hub gives a student's (or, with
    side="grader", the grader's) server; runs in their home unless `cwd` is given."""
    home = subprocess.run(["getent", "passwd", name], capture_output=True, text=True).stdout.split(":")[5]
    env = ["env", "-C", str(cwd or home), f"HOME={home}", f"PATH={PREFIX}/venv/bin:/usr/bin:/bin",
           f"JUPYTER_CONFIG_PATH={PREFIX}/etc/jupyter/{side}", f"TFCORE_HUB_EXCHANGE={STATE}/exchange"]
    return subprocess.run(["runuser", "-u", name, "--", *env, *command], capture_output=True, text=True,
                          **kwargs)


def as_grader(*command):
    """An nbgrader command as the grader account in the course folder (what formgrader runs); fails
    with its output unless it succeeds; returns the output."""
    done = run_as("grader-tfcore", *command, cwd=STATE / "course", side="grader")
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


class ClassHub:
    """`make hub` with a roster of students and one instructor, on free ports, in its own state folder."""

    def __init__(self, students=STUDENTS, instructor=INSTRUCTOR, state=STATE, fast=True, settings=None,
                 files=None):
        self.names, self.state = (*students, instructor), Path(state)
        remove_users(self.names)
        shutil.rmtree(self.state, ignore_errors=True)
        self.state.mkdir(parents=True)
        roster = self.state / "roster.csv"  # make hub copies it to students.csv
        rows = [f"{name},{name.split('-')[1].title()},Tester,{name}@example.org" for name in students]
        roster.write_text("id,first_name,last_name,email\n" + "\n".join(rows) + "\n")
        self.port = free_port()
        self.env = dict(os.environ, HUB_STATE=str(self.state), ROSTER=str(roster), INSTRUCTORS=instructor,
                        HUB_INTERNAL_PORT=str(free_port()), HUB_PROXY_API_PORT=str(free_port()),
                        HUB_FORMGRADER_PORT=str(free_port()), COURSE_ENGINE="tfcore")
        if fast:
            self.env["COURSE_FAST"] = "1"
        self.env.update(settings or {})
        for name, text in (files or {}).items():  # e.g. lti13.json
            (self.state / name).write_text(text)
        self.env.setdefault("TFCORE_DATASETS", str(ROOT.parent / "shared" / "datasets"))
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = None
        self.start(SETUP_SECONDS)

    def start(self, timeout=180):
        """Runs `make hub HUB_PORT=...` and waits for JupyterHub's "now running" line."""
        self.server = Server(["make", "--no-print-directory", "hub", f"HUB_PORT={self.port}"], self.env,
                             rf"(?<=is now running at )http://127\.0\.0\.1:{self.port}/", "make hub")
        self.server.url(timeout)

    def stop(self):
        """Stops the hub (and the proxy and servers it started), keeping the class's state."""
        self.server.stop()

    def restart(self):
        """Stops and starts the hub with the same state folder (database, secrets, exchange)."""
        self.stop()
        self.start()

    def close(self):
        """Stops the hub and removes the test users, their homes and the state folder."""
        self.stop()
        remove_users(self.names)
        shutil.rmtree(self.state, ignore_errors=True)

    def log(self, last=60):
        """The hub's last output lines, for failure messages."""
        return "\n".join(self.server.lines[-last:])

    @property
    def admin_token(self):
        """The instructors' REST API token that the first start wrote into the state folder."""
        return (self.state / "state" / "admin-token").read_text().strip()

    def api(self, method, path, token=None, **kwargs):
        """A call to the hub's REST API (`/hub/api/...`) with `token` (the admin token by default)."""
        headers = {"Authorization": f"token {token or self.admin_token}"}
        return requests.request(method, f"{self.url}/hub/api{path}", headers=headers, timeout=30, **kwargs)

    def wait_ready(self, name, timeout=120):
        """Waits until `name`'s default server is ready; returns the user model."""
        model = {}

        def ready():
            model.update(self.api("GET", f"/users/{name}").json())
            return (model.get("servers") or {}).get("", {}).get("ready", False)

        wait_for(ready, timeout, f"{name}'s server to be ready (hub log:\n{self.log()})")
        return model

    def user_token(self, name):
        """A new API token for `name` (made with the admin token), for their own server's API."""
        reply = self.api("POST", f"/users/{name}/tokens", json={"note": "tests", "expires_in": 3600})
        reply.raise_for_status()
        return reply.json()["token"]


class Login:
    """One person's session in the hub's web pages, without a browser."""

    def __init__(self, hub):
        self.hub = hub
        self.session = requests.Session()

    def _form(self, path, data):
        page = self.session.get(f"{self.hub.url}{path}", timeout=30)
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
        data = {**data, "_xsrf": xsrf.group(1) if xsrf else self.session.cookies.get("_xsrf", "")}
        return self.session.post(f"{self.hub.url}{path}", data=data, timeout=60)

    def sign_up(self, name, password):
        """Submits the sign-up form; returns the message the page shows."""
        reply = self._form("/hub/signup", {"username": name, "signup_password": password,
                                           "signup_password_confirmation": password})
        message = re.search(r'<div class="alert[^"]*"[^>]*>(.*?)</div>', reply.text, re.S)
        return re.sub(r"<[^>]+>|\s+", " ", message.group(1)).strip() if message else reply.text[:300]

    def log_in(self, name, password):
        """Submits the login form; True when the hub let the person in."""
        reply = self._form("/hub/login?next=", {"username": name, "password": password})
        return "/hub/login" not in reply.url

    def get(self, path, **kwargs):
        """GET a path of the hub with this person's cookies."""
        return self.session.get(f"{self.hub.url}{path}", timeout=60, **kwargs)


class KernelClient:
    """Runs code in a new kernel of `name`'s own server, over the server's REST API and websocket."""

    def __init__(self, hub, name, token):
        import websocket

        self.base = f"{hub.url}/user/{name}/api"
        self.headers = {"Authorization": f"token {token}"}
        reply = requests.post(f"{self.base}/kernels", headers=self.headers, json={"name": "python3"},
                              timeout=60)
        reply.raise_for_status()
        self.kernel_id = reply.json()["id"]
        ws_url = self.base.replace("http://", "ws://") + f"/kernels/{self.kernel_id}/channels"
        self.socket = websocket.create_connection(ws_url, header=self.headers, timeout=300)

    def run(self, code, timeout=300):
        """Executes `code`; returns (status, text of its stream and result outputs, error text)."""
        msg_id = uuid.uuid4().hex
        self.socket.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "", "session": msg_id,
                       "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        text, error, status, deadline = [], "", None, time.monotonic() + timeout
        while status is None or not self._idle_seen:
            assert time.monotonic() < deadline, f"no reply within {timeout} s to {code[:80]!r}"
            message = json.loads(self.socket.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                text.append(content["text"])
            elif kind in ("execute_result", "display_data"):
                text.append(content["data"].get("text/plain", ""))
            elif kind == "error":
                error = f"{content['ename']}: {content['evalue']}"
            elif kind == "execute_reply":
                status = content["status"]
            elif kind == "status":
                self._idle_seen = content["execution_state"] == "idle"
        self._idle_seen = False
        return status, "".join(text), error

    _idle_seen = False

    def close(self):
        """Closes the websocket and shuts the kernel down."""
        self.socket.close()
        requests.delete(f"{self.base}/kernels/{self.kernel_id}", headers=self.headers, timeout=60)
