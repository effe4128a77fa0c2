# Sourced by the scripts: make .venv (Python 3.11+), install the dev tools at the versions pinned in
# requirements-dev.txt (the lockfile: the dev extra, transitively, and the build backend), then the
# project itself, editable and without dependencies; again only when requirements-dev.txt or
# pyproject.toml has changed since the last install. Only pip is needed (CONTRIBUTING.md says how
# the lockfile is made).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

find_python() {
    for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11 python; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "chalk-client needs Python 3.11 or later (set PYTHON=/path/to/python3.11)" >&2
    return 1
}

if [ ! -x "$VENV/bin/python" ]; then
    python="$(find_python)"
    echo "creating $VENV with $("$python" --version)" >&2
    "$python" -m venv "$VENV"
fi
stamp="$VENV/.chalk-client-installed"
lock="$ROOT/requirements-dev.txt"
wanted="$(cat "$ROOT/pyproject.toml" "$lock" | "$VENV/bin/python" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    echo "installing chalk-client and its dev tools (pinned in requirements-dev.txt) into $VENV" >&2
    pip=("$VENV/bin/python" -m pip --quiet --disable-pip-version-check)
    "${pip[@]}" install --upgrade pip >&2
    "${pip[@]}" install -r "$lock" >&2
    # The build backend (hatchling) is pinned in the lockfile too, so the project installs offline.
    "${pip[@]}" install --no-deps --no-build-isolation -e "$ROOT" >&2
    # Catches a runtime dependency missing from the lockfile (tests/clients/test_packaging.py checks the extras).
    if ! problems="$("$VENV/bin/python" -m pip check --disable-pip-version-check 2>&1)"; then
        echo "$problems" >&2
        echo "requirements-dev.txt does not satisfy pyproject.toml: regenerate it (CONTRIBUTING.md)" >&2
        exit 1
    fi
    echo "$wanted" > "$stamp"
fi
export PATH="$VENV/bin:$PATH"
cd "$ROOT"
