"""`course grading validate ASSIGNMENT|NOTEBOOK...`: `nbgrader validate` that fails loudly.

`nbgrader validate` prints nothing and exits 0 when its path matches no file (a typo, or a relative
path written for another folder), so a check of a missing notebook looks like a pass. This command
takes an assignment id (its source notebooks, from the course's `nbgrader_config.py`: the checkout's
`exercises/`) or notebook paths, refuses any that do not exist, and exits 1 unless nbgrader says
"Success!" for every notebook.
"""

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["notebooks_to_validate", "validate"]

SUCCESS = "Success! Your notebook passes all the tests."


def notebooks_to_validate(names, exercises):
    """The notebook paths `names` stand for: a path to a notebook, or an assignment id in `exercises`
    (all its notebooks). Raises FileNotFoundError naming what matched nothing."""
    paths = []
    for name in names:
        path, folder = Path(name), Path(exercises) / name
        if path.suffix == ".ipynb":
            if not path.is_file():
                raise FileNotFoundError(f"{path} does not exist (seen from {Path.cwd()})")
            paths.append(path)
        elif folder.is_dir() and list(folder.glob("*.ipynb")):
            paths.extend(sorted(folder.glob("*.ipynb")))
        else:
            raise FileNotFoundError(f"{name!r} is neither a notebook nor an assignment in {exercises}")
    return paths


def validate(names, exercises, echo=print):
    """Run `nbgrader validate` on each notebook `names` stand for; 0 when all pass, 1 otherwise."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    failed = 0
    for notebook in notebooks_to_validate(names, exercises):
        result = subprocess.run([sys.executable, "-m", "nbgrader", "validate", str(notebook)], text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=dict(os.environ, PATH=path))
        passed = result.returncode == 0 and SUCCESS in result.stdout
        failed += not passed
        echo(result.stdout.rstrip())
        echo(f"{notebook}: {'passes' if passed else 'FAILS'}")
    return 1 if failed else 0
