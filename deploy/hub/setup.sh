#!/usr/bin/env bash
# Installs (or brings up to date) everything the class hub needs on this server; `make hub` runs it
# and then starts JupyterHub. Idempotent: a second run changes only what the checkout changed.
#
#   HUB_PREFIX   (/opt/tfcore-hub)  the hub's software: a venv from the system Python with the course and
#                                    JupyterHub, configurable-http-proxy, a read-only copy of the lessons,
#                                    the exercises and grading/, the Jupyter settings of students and graders
#   HUB_STATE    (/srv/tfcore-hub)  the class's data: state/ (hub database, secrets; root only),
#                                    course/ (the nbgrader course folder and gradebook; grader only),
#                                    exchange/ (nbgrader's exchange, shared), students.csv, instructors.txt
#   ROSTER       a students.csv (id,first_name,last_name,email) to add to the class (kept in HUB_STATE)
#   INSTRUCTORS  instructors' logins, comma-separated (kept in HUB_STATE; default: instructor)
#   TAS          teaching assistants' logins, comma-separated (formgrader, no hub admin)
#
# Needs root: it creates system users (one per student, the grader account `grader-tfcore`).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
prefix="${HUB_PREFIX:-/opt/tfcore-hub}"
state="${HUB_STATE:-/srv/tfcore-hub}"
python="${HUB_PYTHON:-/usr/bin/python3}"
grader="grader-tfcore"
chp_version="5.3.0"

say() { echo "make hub: $*"; }
fail() { echo "make hub: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "the hub creates a system user per student and must be set up as root: sudo make hub"

install_packages() {
    local missing=()
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
    [ -x "$python" ] || missing+=(python3 python3-venv)
    [ ${#missing[@]} -eq 0 ] && return
    command -v apt-get >/dev/null 2>&1 || fail "missing ${missing[*]} and no apt-get here: install them"
    say "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
        || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; }
}

install_proxy() {
    local chp="$prefix/proxy/node_modules/configurable-http-proxy/package.json"
    if [ -f "$chp" ] && grep -q "\"version\": \"$chp_version\"" "$chp"; then return; fi
    say "installing configurable-http-proxy $chp_version (npm)"
    mkdir -p "$prefix/proxy"
    npm install --silent --no-audit --no-fund --prefix "$prefix/proxy" "configurable-http-proxy@$chp_version" \
        || fail "npm could not install configurable-http-proxy@$chp_version (is the npm registry reachable?)"
}

# The students' and graders' Python: a venv from the system Python (world-readable, unlike a Python
# under /root), the course installed into it as a package (not editable: students cannot read the checkout).
install_python() {
    "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || fail "$python is older than Python 3.11; set HUB_PYTHON=/path/to/python3.11"
    [ -x "$prefix/venv/bin/python" ] || { say "creating $prefix/venv with $python"; "$python" -m venv "$prefix/venv"; }
    local stamp="$prefix/venv/.installed" want
    want="$(cd "$repo" && cat pyproject.toml && git ls-files -s tfcore course 2>/dev/null | sha256sum)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
    say "installing the course and JupyterHub into $prefix/venv (pip install \".[course,hub]\"; minutes the first time)"
    "$prefix/venv/bin/pip" install -qq --upgrade pip
    "$prefix/venv/bin/pip" install -qq "$repo[course,hub]"
    "$prefix/venv/bin/pip" install -qq --no-deps --force-reinstall "$repo"
    printf '%s' "$want" > "$stamp"
}

# What every user reads: the lessons (copied into each new home), the exercises and grading/ (the
# grader's course folder loads grading/nbgrader_config.py from here), the Jupyter settings.
install_course() {
    mkdir -p "$prefix/course" "$prefix/etc"
    for part in lessons exercises grading; do
        rm -rf "$prefix/course/$part.new"
        cp -r "$repo/$part" "$prefix/course/$part.new"
        rm -rf "$prefix/course/$part" && mv "$prefix/course/$part.new" "$prefix/course/$part"
    done
    rm -rf "$prefix/etc/jupyter" && cp -r "$repo/deploy/hub/jupyter" "$prefix/etc/jupyter"
    chmod -R a+rX,go-w "$prefix"
}

ensure_user() {  # ensure_user NAME: a system user with a private home
    id -u "$1" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash --user-group "$1"
    chmod 0700 "$(getent passwd "$1" | cut -d: -f6)"
}

# The class's folders, with the permissions nbgrader documents for a shared exchange.
make_state() {
    mkdir -p "$state/state" "$state/course" "$state/exchange"
    chmod 0755 "$state"
    chmod 0700 "$state/state"
    chmod 0777 "$state/exchange"
    ensure_user "$grader"
    chown "$grader:$grader" "$state/course"
    chmod 0700 "$state/course"
    cat > "$state/course/nbgrader_config.py" <<EOF
# Written by deploy/hub/setup.sh: the course's grading settings, with the hub's shared exchange.
load_subconfig("$prefix/course/grading/nbgrader_config.py")
c.Exchange.root = "$state/exchange"
EOF
    chown "$grader:$grader" "$state/course/nbgrader_config.py"
    [ -f "$state/instructors.txt" ] || echo "${INSTRUCTORS:-instructor}" | tr ',' '\n' > "$state/instructors.txt"
    [ -z "${INSTRUCTORS:-}" ] || echo "$INSTRUCTORS" | tr ',' '\n' > "$state/instructors.txt"
    [ -z "${TAS:-}" ] || echo "$TAS" | tr ',' '\n' > "$state/tas.txt"
    touch "$state/tas.txt"
}

as_grader() { (cd "$state/course" && runuser -u "$grader" -- env HOME="$(getent passwd "$grader" | cut -d: -f6)" \
    PATH="$prefix/venv/bin:$PATH" "$@"); }

# The roster: a system user per student and the same students in the gradebook.
add_roster() {
    if [ -n "${ROSTER:-}" ]; then
        [ -f "$ROSTER" ] || fail "ROSTER=$ROSTER: no such file"
        "$prefix/venv/bin/python" "$repo/deploy/hub/coursehub/roster.py" check "$ROSTER"
        cp "$ROSTER" "$state/students.csv"
    fi
    [ -f "$state/students.csv" ] || echo "id,first_name,last_name,email" > "$state/students.csv"
    chmod 0644 "$state/students.csv"
    local name
    for name in $("$prefix/venv/bin/python" "$repo/deploy/hub/coursehub/roster.py" logins "$state"); do
        ensure_user "$name"
    done
    cp "$state/students.csv" "$state/course/students.csv" && chown "$grader" "$state/course/students.csv"
    as_grader nbgrader db student import students.csv --log-level=WARN
}

install_packages
install_proxy
install_python
install_course
make_state
add_roster
say "ready: software in $prefix, class data in $state"
