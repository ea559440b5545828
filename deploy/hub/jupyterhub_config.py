"""JupyterHub for a class on one server (`make hub`; deploy/hub/README.md).

Read by `jupyterhub -f deploy/hub/jupyterhub_config.py` as root, after deploy/hub/setup.sh installed the
software in HUB_PREFIX and the class's folders in HUB_STATE. Every setting below comes from an
environment variable that `make hub` passes on (README: "Settings"), so the file itself stays as shipped.

- Logins: a password per student (NativeAuthenticator, on the roster only, approved by an instructor)
  or, with HUB_AUTH=lti13, the LMS's LTI 1.3 launch (settings in HUB_STATE/lti13.json).
- Servers: each student's own system user, home and JupyterLab, opening on lesson 01, the student side
  of nbgrader only; rlimits (or systemd's cgroup limits where systemd runs); idle servers culled.
- Grading: formgrader as the hub service `tfcore-course`, run by the system user `grader-tfcore` in the
  course folder HUB_STATE/course, open to the group formgrade-tfcore-course (instructors and TAs);
  autograde there runs every submission in the grading sandbox (course/grading/sandbox.py).
- Secrets (cookie secret, proxy token, the instructors' API token) are made on the first start in
  HUB_STATE/state (root only) and kept across restarts; none is in the repository.
"""

import json
import os
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from coursehub.roster import Roster  # noqa: E402 - after the path is set

c = get_config()  # noqa: F821 - injected by traitlets when it loads this file

PREFIX = Path(os.environ.get("HUB_PREFIX", "/opt/tfcore-hub"))
STATE = Path(os.environ.get("HUB_STATE", "/srv/tfcore-hub"))
VENV = PREFIX / "venv"
COURSE_ID = "tfcore-course"  # grading/nbgrader_config.py's course id; the formgrader service's name
GRADER = "grader-tfcore"
GRADERS_GROUP = f"formgrade-{COURSE_ID}"  # the name nbgrader's course list looks for
FIRST_LESSON = "lessons/01_tensors_graphs_sessions.ipynb"
ROSTER = Roster.read(STATE)


def setting(name, default):
    """An environment variable of `make hub` (deploy/hub/README.md lists them), or its default."""
    return os.environ.get(name) or default


def kept_secret(name):
    """A random token stored in HUB_STATE/state/NAME (root only): made on the first start, then reused."""
    path = STATE / "state" / name
    if not path.is_file():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def server_environment(config_dir):
    """What a student's server (or the grader's) runs with: the hub's venv, its Jupyter settings, the data."""
    env = {"PATH": f"{VENV}/bin:/usr/local/bin:/usr/bin:/bin", "VIRTUAL_ENV": str(VENV),
           "JUPYTER_CONFIG_PATH": str(PREFIX / "etc" / "jupyter" / config_dir),
           "TFCORE_HUB_EXCHANGE": str(STATE / "exchange")}
    for name in ("TFCORE_DATASETS", "COURSE_FAST", "COURSE_ENGINE"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


# --- The hub and its proxy: one public port (HUB_IP:HUB_PORT), the rest on loopback.
c.JupyterHub.ip = setting("HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(setting("HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(setting("HUB_INTERNAL_PORT", "8081"))
c.JupyterHub.db_url = f"sqlite:///{STATE / 'state' / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "state" / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.command = [str(PREFIX / "proxy/node_modules/.bin/configurable-http-proxy")]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{setting('HUB_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.auth_token = kept_secret("proxy-token")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "state" / "proxy.pid")

# --- Who may log in.
if setting("HUB_AUTH", "native") == "lti13":
    lti = json.loads((STATE / "lti13.json").read_text())  # issuer, client_id, authorize_url, jwks_endpoint
    c.JupyterHub.authenticator_class = "ltiauthenticator.lti13.auth.LTI13Authenticator"
    c.LTI13Authenticator.tool_name = "tfcore course"
    c.LTI13Authenticator.tool_description = "Deep learning on a TensorFlow-1-style engine: lessons, exercises"
    for key, value in lti.items():
        setattr(c.LTI13Authenticator, key, value)
else:
    c.JupyterHub.authenticator_class = "coursehub.auth.RosterAuthenticator"
    c.RosterAuthenticator.state_dir = str(STATE)
    c.RosterAuthenticator.open_signup = setting("HUB_OPEN_SIGNUP", "0") == "1"
    c.RosterAuthenticator.minimum_password_length = 8
    c.RosterAuthenticator.check_common_password = True
    c.RosterAuthenticator.allowed_failed_logins = 5
    c.RosterAuthenticator.seconds_before_next_try = 300
c.Authenticator.allowed_users = set(ROSTER.everyone)
c.Authenticator.admin_users = set(ROSTER.instructors)
c.JupyterHub.admin_access = False  # not even an instructor opens a student's server

# --- Each student's server.
if Path("/run/systemd/system").is_dir():
    c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"
    c.SystemdSpawner.dynamic_users = False
    c.SystemdSpawner.isolate_tmp = True
    c.SystemdSpawner.isolate_devices = True
else:
    c.JupyterHub.spawner_class = "coursehub.spawner.ClassSpawner"
    c.ClassSpawner.lessons = str(PREFIX / "course" / "lessons")
c.Spawner.cmd = [str(VENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = f"/lab/tree/{FIRST_LESSON}"
c.Spawner.environment = server_environment("student")
c.Spawner.mem_limit = setting("HUB_MEM_LIMIT", "4G")
c.Spawner.cpu_limit = float(setting("HUB_CPU_LIMIT", "1"))
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 90

# --- Instructors and TAs: formgrader as a service of the hub, run by the grader account.
c.JupyterHub.load_groups = {GRADERS_GROUP: {"users": list(ROSTER.graders)}}
formgrader = {
    "name": COURSE_ID,
    "url": f"http://127.0.0.1:{setting('HUB_FORMGRADER_PORT', '9999')}",
    "command": [str(VENV / "bin" / "jupyterhub-singleuser")],
    "user": GRADER,
    "cwd": str(STATE / "course"),
    "environment": {**server_environment("grader"), "JUPYTERHUB_DEFAULT_URL": "/formgrader"},
    "oauth_no_confirm": True,
}
culler = {
    "name": "idle-culler",
    "command": [str(VENV / "bin" / "python"), "-m", "jupyterhub_idle_culler",
                f"--timeout={setting('HUB_CULL_TIMEOUT', '3600')}"],
}
# The instructors' token for the REST API (HUB_STATE/state/admin-token), e.g. for scripts and the tests.
admin_api = {"name": "course-admin", "api_token": kept_secret("admin-token")}
c.JupyterHub.services = [formgrader, culler, admin_api]
c.JupyterHub.load_roles = [
    {"name": GRADERS_GROUP, "groups": [GRADERS_GROUP],
     "scopes": [f"access:services!service={COURSE_ID}", "list:services",
                f"read:services!service={COURSE_ID}"]},
    {"name": "idle-culler", "services": ["idle-culler"],
     "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]},
    {"name": "admin", "services": ["course-admin"]},  # and the instructors (admin_users)
]
