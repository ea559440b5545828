"""The class list: students from `students.csv` (the file nbgrader's gradebook imports), instructors and
teaching assistants from `instructors.txt` and `tas.txt`, all in the hub's state folder.

A login is a system user name and an nbgrader student id at once, so it must be both: lower-case
letters, digits and `-`, starting with a letter, at most 32 characters, and without `_` (LMS file names
are split at the first `_`, grading/README.md step 3).

Run as a script by deploy/hub/setup.sh (`check FILE`, `logins STATE_DIR`).
"""

import csv
import re
import sys
from dataclasses import dataclass
from pathlib import Path

LOGIN = re.compile(r"[a-z][a-z0-9-]{0,31}")
COLUMNS = ("id", "first_name", "last_name", "email")
RESERVED = {"root", "nobody", "grader-tfcore"}


class RosterError(ValueError):
    """A roster file that cannot be used, with the file and the line in the message."""


def check_login(name, where):
    """`name` if it can be a login (system user and student id); a `RosterError` naming `where` otherwise."""
    if not LOGIN.fullmatch(name) or name in RESERVED:
        raise RosterError(f"{where}: {name!r} cannot be a login: use lower-case letters, digits and '-', "
                          f"starting with a letter, at most 32 characters (and not {sorted(RESERVED)})")
    return name


def students(path):
    """The student ids of a `students.csv` with the columns id,first_name,last_name,email."""
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = tuple(reader.fieldnames or ())
        if fields[:1] != ("id",) or not set(fields) <= set(COLUMNS):
            raise RosterError(f"{path}: the first line must name the columns {','.join(COLUMNS)} "
                              f"(id first), not {reader.fieldnames}")
        ids = [check_login((row["id"] or "").strip(), f"{path} line {reader.line_num}") for row in reader]
    duplicates = sorted({name for name in ids if ids.count(name) > 1})
    if duplicates:
        raise RosterError(f"{path}: these ids appear more than once: {', '.join(duplicates)}")
    return ids


def names(path):
    """The logins listed one per line in `path` (blank lines and `#` comments skipped); [] if missing."""
    path = Path(path)
    if not path.is_file():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [check_login(line, str(path)) for line in lines if line]


@dataclass(frozen=True)
class Roster:
    """Who belongs to the class, read from the hub's state folder."""

    students: tuple
    instructors: tuple
    tas: tuple

    @classmethod
    def read(cls, state):
        """The roster in `state` (students.csv, instructors.txt, tas.txt)."""
        state = Path(state)
        roster = state / "students.csv"
        return cls(tuple(students(roster)) if roster.is_file() else (),
                   tuple(names(state / "instructors.txt")), tuple(names(state / "tas.txt")))

    @property
    def graders(self):
        """Instructors and teaching assistants: the logins that get formgrader."""
        return tuple(dict.fromkeys(self.instructors + self.tas))

    @property
    def everyone(self):
        """Every login of the class, each once."""
        return tuple(dict.fromkeys(self.students + self.graders))


def main(argv):
    """`check FILE`: exit 1 with the reason if FILE is no usable roster; `logins STATE`: print every login."""
    try:
        if len(argv) == 2 and argv[0] == "check":
            students(argv[1])
        elif len(argv) == 2 and argv[0] == "logins":
            print("\n".join(Roster.read(argv[1]).everyone))
        else:
            print("usage: roster.py check STUDENTS_CSV | roster.py logins STATE_DIR", file=sys.stderr)
            return 2
    except RosterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
