"""Helpers shared by the browser tests: free ports, the README servers, waiting for a URL, screenshots."""

import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "runs" / "screenshots"
SERVER_START_SECONDS = 120


def free_port():
    """A TCP port that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A server started by a README command in its own process group; its output is kept in `.lines`."""

    def __init__(self, command, env, url_pattern, name):
        self.name = name
        self.lines = []
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self._url = None
        self._found = threading.Event()
        self._pattern = re.compile(url_pattern)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            match = self._pattern.search(line)
            if match and self._url is None:
                self._url = match.group(0)
                self._found.set()
        self._found.set()  # the process ended

    def url(self, timeout=SERVER_START_SECONDS):
        """The URL the server printed; fails with its output if it printed none in time."""
        self._found.wait(timeout)
        if self._url is None:
            raise AssertionError(f"{self.name} printed no URL in {timeout} s (exit code "
                                 f"{self.process.poll()}); its output:\n" + "\n".join(self.lines[-40:]))
        return self._url

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # make and the server it started
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def wait_until_answers(url, timeout=60):
    """Poll `url` until it answers HTTP 200; returns the body."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                if response.status == 200:
                    return response.read().decode("utf-8", "replace")
        except OSError as exc:
            if time.monotonic() > deadline:
                raise AssertionError(f"{url} did not answer within {timeout} s: {exc}") from exc
        time.sleep(0.5)


def wait_for(condition, timeout, what):
    """Poll `condition()` until it is true; fails naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.25)


def screenshot(page, name):
    """Save a full-page screenshot as runs/screenshots/<name>.png; returns its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
