#!/usr/bin/env bash
# Make sure bubblewrap (`bwrap`, Debian package `bubblewrap`) is installed: every graded notebook runs
# in its sandbox (course/grading/sandbox.py), and the grading tests attack that sandbox. `make test`
# runs this before pytest. Unlike Chromium this is not optional: when it cannot be installed the
# script fails with the reason, and so does `make test`.
set -euo pipefail

if command -v bwrap >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "bubblewrap is missing and this machine has no apt-get: install it (e.g. 'dnf install bubblewrap')." >&2
    exit 1
fi
if [ "$(id -u)" = 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "bubblewrap is missing, and installing it needs root: run 'sudo apt-get install bubblewrap'." >&2
    exit 1
fi
echo "Installing bubblewrap for the grading sandbox (apt-get install bubblewrap)"
export DEBIAN_FRONTEND=noninteractive
if ! "${as_root[@]}" apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null 2>&1; then
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" apt-get install -y -qq --no-install-recommends bubblewrap
fi
echo "bubblewrap: $(bwrap --version)"
