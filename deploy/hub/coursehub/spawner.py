"""Each student's server: a process of their own system user, started in their home with the lessons.

`ClassSpawner` is JupyterHub's LocalProcessSpawner (the server runs as the student's system user,
in their 0700 home) plus two things it leaves out: on the first start it creates the user if the roster
names them but they have no account yet and copies the lessons into `~/lessons` (never over a
student's own copy); and it applies resource limits to the server and every kernel it starts, as
rlimits, since without systemd there are no cgroups to use: `mem_limit` bounds each process's address
space and `max_processes` the processes and threads of the user. On a server where systemd runs,
deploy/hub/jupyterhub_config.py uses SystemdSpawner instead, which enforces `mem_limit` and
`cpu_limit` for the whole server.
"""

import asyncio
import os
import pwd
import resource
import shutil
import subprocess
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner, set_user_setuid
from traitlets import Int, Unicode


def ensure_system_user(name):
    """The passwd entry of `name`, created (with a private home) if the system has no such user."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--user-group", name],
                       check=True, capture_output=True, text=True)
        entry = pwd.getpwnam(name)
        os.chmod(entry.pw_dir, 0o700)
        return entry


def copy_lessons(lessons, entry):
    """Copies the folder `lessons` into the user's home as `lessons/`, owned by them, unless it exists."""
    target = Path(entry.pw_dir) / "lessons"
    if target.exists():
        return
    shutil.copytree(lessons, target)
    for path in [target, *target.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)


class ClassSpawner(LocalProcessSpawner):
    """LocalProcessSpawner with the student's home prepared and rlimits on the server and its kernels."""

    lessons = Unicode(config=True, help="The lessons folder copied into each new home as ~/lessons.")
    max_processes = Int(512, config=True,
                        help="RLIMIT_NPROC of the server: processes and threads of the user, in all.")

    async def start(self):
        """Prepares the home (as root, in a thread), then starts the server as the student."""
        entry = await asyncio.to_thread(ensure_system_user, self.user.name)
        if self.lessons:
            await asyncio.to_thread(copy_lessons, self.lessons, entry)
        return await super().start()

    def make_preexec_fn(self, name):
        """Sets the limits (while still root), then drops to the student's uid and groups."""
        become_user = set_user_setuid(name)
        memory = int(self.mem_limit) if self.mem_limit else resource.RLIM_INFINITY
        processes = self.max_processes

        def preexec():
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
            become_user()

        return preexec
