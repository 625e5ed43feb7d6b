# Sourced by scripts/test and scripts/demo: creates (or reuses) the cached virtualenv
# in .cache/venv and installs bridle into it. A stamp of the dependency files lets a
# second run skip the downloads. Set BRIDLE_DEV=1 for the test tools too.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"
VENV="$CACHE/venv"
PY="${PYTHON:-python3}"
mkdir -p "$CACHE"

if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "bridle needs Python >= 3.11 (found $("$PY" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
  exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi

extras=""
[ "${BRIDLE_DEV:-0}" = "1" ] && extras="[dev]"
stamp="$VENV/.bridle-stamp"
want="$(cat "$ROOT/pyproject.toml" "$ROOT/requirements.lock" 2>/dev/null | sha256sum | cut -c1-16)$extras"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -c "$ROOT/requirements.lock" -e "$ROOT$extras"
  echo "$want" > "$stamp"
fi
export PATH="$VENV/bin:$PATH"
