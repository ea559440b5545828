"""Run modes: `COURSE_FAST=1` shortens every training loop so the whole course runs in minutes."""

import os


def fast():
    """True when COURSE_FAST=1 (the test suite and quick previews set it)."""
    return os.environ.get("COURSE_FAST", "0").strip() not in ("", "0", "false", "no")


def choose(full, fast_value):
    """`full` normally, `fast_value` in fast mode: `steps = course.choose(30000, 200)`."""
    return fast_value if fast() else full
