#!/usr/bin/env bash
# Make sure the system Chromium that the browser tests drive is installed (Debian package `chromium`,
# /usr/bin/chromium); `make test` runs this before pytest. Playwright's own browser download is not
# used (it cannot reach its download site everywhere the tests run).
#
# Never fails: when Chromium cannot be installed (not Debian, not root and no passwordless sudo, apt
# unreachable) it says why on stderr and in runs/chromium-install.log, and the browser tests are then
# skipped with that reason (tests/browser/conftest.py reads the log).
# Usage: scripts/install-chromium.sh        CHROMIUM=/path/to/chromium to use another binary.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
chromium="${CHROMIUM:-/usr/bin/chromium}"
log="runs/chromium-install.log"
mkdir -p runs

if [ -x "$chromium" ]; then
    rm -f "$log"
    exit 0
fi

give_up() {
    echo "Chromium could not be installed: $*" | tee "$log" >&2
    echo "The browser tests (tests/browser) will be skipped." >&2
    exit 0
}

command -v apt-get >/dev/null 2>&1 || give_up "$chromium is missing and this machine has no apt-get (not Debian/Ubuntu); install Chromium yourself and set CHROMIUM=/path/to/chromium."
if [ "$(id -u)" = 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    give_up "$chromium is missing, and installing it needs root (run 'sudo apt-get install chromium')."
fi

echo "Installing Chromium for the browser tests (apt-get install chromium; a minute or two the first time)"
export DEBIAN_FRONTEND=noninteractive
apt_install() {
    "${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium >"$log.apt" 2>&1
}
if ! apt_install; then
    "${as_root[@]}" apt-get update -qq >>"$log.apt" 2>&1
    apt_install || give_up "apt-get install chromium failed: $(tail -n 3 "$log.apt" | tr '\n' ' ')"
fi
rm -f "$log.apt"
[ -x "$chromium" ] || give_up "the chromium package is installed but $chromium is not there."
rm -f "$log"
echo "Chromium: $("$chromium" --version 2>/dev/null)"
