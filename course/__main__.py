"""`python -m course ...`: the same as the `course` command (course/cli.py)."""

import sys

from course.cli import main

sys.exit(main())
