"""The first program in the grading sandbox: copy the submission's files into the private work folder,
then become the kernel.

    python -m course.grading.workspace WORK_NAME -- KERNEL_COMMAND...

`WORK_NAME` is the submission folder's name; the work folder is `HOME/WORK_NAME` on the sandbox's
tmpfs, filled from the read-only `SUBMISSION_FILES` (the submission's files other than notebooks).
"""

import os
import shutil
import sys
from pathlib import Path

from course.grading.sandbox import HOME, SUBMISSION_FILES


def main(argv):
    """Prepare the work folder and exec the kernel command."""
    if len(argv) < 3 or argv[1] != "--" or "/" in argv[0] or argv[0] in ("", ".", ".."):
        sys.exit("usage: python -m course.grading.workspace WORK_NAME -- KERNEL_COMMAND...")
    work = Path(HOME) / argv[0]
    shutil.copytree(SUBMISSION_FILES, work, symlinks=True)
    for path in [work, *work.rglob("*")]:  # the copies are the student's own, to change or remove
        if not path.is_symlink():
            path.chmod(0o700 if path.is_dir() else 0o600)
    os.chdir(work)
    os.execv(argv[2], argv[2:])


if __name__ == "__main__":
    main(sys.argv[1:])
