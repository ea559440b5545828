"""Fixtures for the class hub tests: one `make hub` per test module, its students signed up and approved.

The hub creates system users, so these tests need root (as `make test` runs in CI); elsewhere they are
skipped with that reason. The first start installs the hub's software into /opt/tfcore-hub (minutes).
"""

import os

import pytest

from tests.hub.helpers import INSTRUCTOR, PASSWORDS, STUDENTS, ClassHub, Login


@pytest.fixture(scope="module")
def hub():
    """The running class hub (`ClassHub`); removed with its users at the end of the module."""
    if os.geteuid() != 0:
        pytest.skip("the class hub creates a system user per student: run these tests as root")
    class_hub = ClassHub()
    yield class_hub
    class_hub.close()


@pytest.fixture(scope="module")
def accounts(hub):
    """Everyone on the roster signed up; the instructor authorized the students. Yields name -> `Login`."""
    teacher = Login(hub)
    assert "signup was successful" in teacher.sign_up(INSTRUCTOR, PASSWORDS[INSTRUCTOR]).lower()
    assert teacher.log_in(INSTRUCTOR, PASSWORDS[INSTRUCTOR]), hub.log()
    logins = {INSTRUCTOR: teacher}
    for name in STUDENTS:
        logins[name] = Login(hub)
        assert "sent to the admin" in logins[name].sign_up(name, PASSWORDS[name])
        assert not logins[name].log_in(name, PASSWORDS[name]), f"{name} logged in before approval"
        assert teacher.get(f"/hub/authorize/{name}").ok
        assert logins[name].log_in(name, PASSWORDS[name]), f"{name} cannot log in:\n{hub.log()}"
    return logins
