#!/usr/bin/env bash
# Create the project's virtual environment if it is missing (the one place that does it).
# Usage: scripts/ensure-venv.sh [VENV_DIR]   (default .venv)
# Uses python3.11 when it is on PATH, otherwise python3 if that is Python >= 3.11.
set -euo pipefail

venv="${1:-.venv}"

if [ -x "$venv/bin/python" ]; then
    exit 0
fi

if command -v python3.11 >/dev/null 2>&1; then
    py=python3.11
elif command -v python3 >/dev/null 2>&1; then
    py=python3
else
    echo "error: neither python3.11 nor python3 is on PATH; install Python 3.11 or newer." >&2
    exit 1
fi

if ! "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    echo "error: this course needs Python >= 3.11, but '$py' is $("$py" -c 'import platform; print(platform.python_version())')." >&2
    echo "       Install Python 3.11 (so that python3.11 is on PATH) and run make again." >&2
    exit 1
fi

if [ -e "$venv" ]; then
    echo "note: $venv exists but has no working bin/python; recreating it." >&2
fi

echo "Creating $venv with $py ($("$py" -c 'import platform; print(platform.python_version())'))"
if ! "$py" -m venv --clear "$venv"; then
    echo "error: '$py -m venv' failed; on Debian/Ubuntu install the venv module (apt-get install python3-venv)." >&2
    exit 1
fi
