"""The course's own package: data, the engine switch, run modes, plots, widgets and progress bars.

    import course
    tf = course.engine()                  # tfcore (or TensorFlow with COURSE_ENGINE=tensorflow)
    steps = course.choose(30000, 300)     # shorter in fast mode (COURSE_FAST=1)

    course.report("test_accuracy", acc)   # a result `course results` collects (else just printed)

Plots, widgets and the data module are imported on first use (`course.plots`, `course.data`, ...).
With COURSE_FIGURE_LOG=<file> set, importing `course` installs the figure checker (`course.plots`),
which logs the title and labels of every figure rendered; matplotlib is not imported otherwise.
"""

import importlib
import json
import os

from course.device import pick_device as pick_device  # the GPU where present, else the CPU
from course.engine import engine, engine_name
from course.progress import progress, progress_range
from course.settings import choose, fast

__all__ = ["engine", "engine_name", "choose", "fast", "progress", "progress_range", "report"]

_SUBMODULES = ("data", "plots", "widgets", "lessons", "cli", "profile")


def report(name, value):
    """Report a result of the lesson (`"test_accuracy"`, `"training_seconds"`): printed as
    ``name: value``, and, when COURSE_REPORT_FILE is set (`course results` sets it), appended to that
    file as a JSON line ``{"lesson": ..., "name": ..., "value": ...}``. Returns `value`."""
    if hasattr(value, "tolist"):
        value = value.tolist()  # numpy scalars and arrays: plain Python numbers and lists
    print(f"{name}: {value}")
    path = os.environ.get("COURSE_REPORT_FILE")
    if path:
        record = {"lesson": os.environ.get("COURSE_LESSON", ""), "name": str(name), "value": value}
        with open(path, "a", encoding="utf-8") as file:
            file.write(json.dumps(record) + "\n")
    return value


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"course.{name}")
    raise AttributeError(f"module 'course' has no attribute {name!r}")


if os.environ.get("COURSE_FIGURE_LOG"):
    importlib.import_module("course.plots")  # installs the figure checker (see course.plots)
