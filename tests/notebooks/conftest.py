"""Lesson run times: each notebook test records how long its lesson took, and the terminal summary
lists them at the end of the run (also without ``-s``; not under pytest-xdist, whose workers keep
their own lists)."""

import pytest

_RUN_TIMES = pytest.StashKey[list]()


@pytest.fixture
def record_lesson_time(request, record_property):
    """`record_lesson_time(lesson, engine, seconds)`: keep a lesson's run time for the summary."""
    times = request.config.stash.setdefault(_RUN_TIMES, [])

    def record(lesson, engine, seconds):
        times.append((lesson, engine, seconds))
        record_property("lesson_seconds", round(seconds, 2))
        print(f"{lesson} [{engine}, COURSE_FAST=1]: {seconds:.1f} s")

    return record


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    times = config.stash.get(_RUN_TIMES, [])
    if not times:
        return
    terminalreporter.section("lesson run times (COURSE_FAST=1)")
    for lesson, engine, seconds in sorted(times):
        terminalreporter.write_line(f"{lesson:<40} {engine:<11} {seconds:7.1f} s")
