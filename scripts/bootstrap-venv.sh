#!/usr/bin/env bash
# Create or refresh .venv (Python 3.12) with the pinned dev dependencies (requirements/dev.lock).
# Idempotent: a no-op when the lock file has not changed. Caches stay inside .runtime/.
set -euo pipefail
cd "$(dirname "$0")/.."

lock=requirements/dev.lock
stamp=.venv/.dev-lock.sha
want=$(sha256sum "$lock" | cut -c1-16)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
  exit 0
fi

find_python() {
  local candidate
  for candidate in "${PROJECT_PYTHON:-}" "$(command -v python3.12 || true)" \
      "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12.*/bin/python3.12; do
    if [[ -n $candidate && -x $candidate ]] && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "error: Python 3.12 not found (looked on PATH and in pyenv). Install it, e.g. 'pyenv install 3.12', or set PROJECT_PYTHON=/path/to/python3.12." >&2
  return 1
}

export PIP_CACHE_DIR=$PWD/.runtime/cache/pip UV_CACHE_DIR=$PWD/.runtime/cache/uv UV_PYTHON_DOWNLOADS=never
echo "• preparing .venv (pinned: $lock)"
if [[ ! -x .venv/bin/python ]]; then
  "$(find_python)" -m venv .venv
fi
if [[ ! -x .venv/bin/uv ]]; then
  .venv/bin/python -m pip install --quiet "$(grep -E '^uv==' "$lock")"
fi
.venv/bin/uv pip sync --quiet --python .venv/bin/python "$lock"
echo "$want" > "$stamp"
