"""nbgrader configuration of the course (read by every `nbgrader ...` command run in this folder).

The course folder is the folder you run nbgrader in (this one, `grading/`, by default): nbgrader
writes `release/`, `submitted/`, `autograded/`, `feedback/`, `downloaded/`, `exchange/` and
`gradebook.db` there (all git-ignored here). The source assignments are read from `exercises/` of
this checkout, wherever the course folder is. To keep the grading files somewhere else, make a folder
with a one-line `nbgrader_config.py`:

    load_subconfig("/path/to/checkout/grading/nbgrader_config.py")

and run nbgrader in that folder; the course root and the exchange follow it. Override any setting on
the command line, e.g. `nbgrader autograde 04_gradient_descent --Execute.timeout=120`.
"""

import os
from pathlib import Path

try:  # nbgrader logs a config file that fails and goes on without it: that must not grade unsandboxed
    from course.grading import execute, feedback
except Exception as exc:  # noqa: BLE001 - any failure to import the course's grading code stops here
    raise SystemExit(f"{__file__}: cannot load the course's grading code (course.grading): {exc!r}. "
                     "Run nbgrader from the course's environment (grading/README.md).") from exc

c = get_config()  # noqa: F821 - injected by traitlets when it loads this file

_REPO = Path(__file__).resolve().parent.parent
_ROOT = Path(os.getcwd()).resolve()  # the course folder: where nbgrader runs

c.CourseDirectory.course_id = "tfcore-course"
c.CourseDirectory.root = str(_ROOT)
# exercises/<assignment>/<notebook>.ipynb of this checkout (an absolute path: nbgrader joins it to root)
c.CourseDirectory.source_directory = str(_REPO / "exercises")

# No JupyterHub and no root: the exchange (release/fetch/submit/collect) is a folder inside the course.
c.Exchange.root = str(_ROOT / "exchange")
c.Exchange.path_includes_course = True
c.Exchange.assignment_dir = str(_ROOT)

# Every assignment runs in under a minute; a cell that runs longer than this is stopped (an endless
# loop earns nothing for its cell and the rest of the notebook, and the class, are still graded).
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# Students must not be able to delete or edit the test cells: autograde puts edited ones back from the
# source (OverwriteCells) and, with this, deleted ones too (nbgrader's default leaves them out: 0 points).
c.OverwriteCells.add_missing_cells = True
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Students' extra files (data, checkpoints) are not copied into the grade: only notebooks count.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.ckpt*",
                            "checkpoint", "events.out.*"]

# zip_collect: LMS downloads named <student>_<notebook>.ipynb, e.g. "ada_02_activation_functions.ipynb"
# (student ids without "_"; the pattern is matched against the file's whole path)
c.ZipCollectApp.collector_plugin = "nbgrader.plugins.zipcollect.FileNameCollectorPlugin"
c.FileNameCollectorPlugin.named_regexp = r".*/(?P<student_id>[^/_]+)_(?P<file_id>[^/]+)\.ipynb$"

# Every graded notebook's kernel runs in a bubblewrap sandbox (course/grading/sandbox.py): read-only
# system and Python, a private copy of its own folder, no network, nothing else of the course, limits on
# memory, processes and CPU time. Autograde stops before the first student when the sandbox cannot start.
# c.GradingSandbox.enabled = False grades without it (the log says so); other limits: GradingSandbox.*.
c.Autograde.exporter_class = execute.SandboxCheckedExporter
c.Autograde.autograde_preprocessors = execute.autograde_preprocessors()

# The feedback students get shows which tests passed and their messages, never the hidden tests' code.
c.GenerateFeedback.preprocessors = feedback.feedback_preprocessors()
