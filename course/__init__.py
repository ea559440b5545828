"""The course's own package: data, the engine switch, run modes, plots, widgets and progress bars.

    import course
    tf = course.engine()                  # tfcore (or TensorFlow with COURSE_ENGINE=tensorflow)
    steps = course.choose(30000, 300)     # shorter in fast mode (COURSE_FAST=1)

Plots, widgets and the data module are imported on first use (`course.plots`, `course.data`, ...).
"""

import importlib

from course.engine import engine, engine_name
from course.progress import progress, progress_range
from course.settings import choose, fast

__all__ = ["engine", "engine_name", "choose", "fast", "progress", "progress_range"]

_SUBMODULES = ("data", "plots", "widgets", "lessons", "cli", "profile")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"course.{name}")
    raise AttributeError(f"module 'course' has no attribute {name!r}")
