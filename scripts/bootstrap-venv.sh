#!/usr/bin/env bash
# Create or refresh .venv (Python 3.12) with the pinned dev dependencies (requirements/dev.lock).
# Idempotent: a no-op when the lock file has not changed. The virtualenv is this checkout's;
# the downloads come through uv's cache shared by the checkouts on this machine
# (HARNESS_CACHE_DIR, default ~/.cache/agent-workflow-harness as in harness/settings.py), from
# which uv links the packages in instead of fetching them again.
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

# uv at the lock's version: .venv's own, else the machine's copy, installed there once with the
# interpreter's pip (in a temporary folder moved into place, so checkouts never share half a copy).
uv_command() {
  local version target tmp
  if [[ -x .venv/bin/uv && -x .venv/bin/python ]]; then
    echo .venv/bin/uv
    return 0
  fi
  version=$(grep -E '^uv==' "$lock" | cut -d= -f3)
  target=$cache/uv-$version
  if [[ ! -x $target/bin/uv ]]; then
    mkdir -p "$cache"
    tmp=$(mktemp -d "$cache/.uv-$version.XXXXXX")
    PIP_CACHE_DIR=$cache/pip "$1" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps \
      --target "$tmp" "uv==$version" >&2
    mv -T "$tmp" "$target" 2>/dev/null || rm -rf "$tmp"  # another checkout's came first
  fi
  echo "$target/bin/uv"
}

cache=${HARNESS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/agent-workflow-harness}
export UV_CACHE_DIR=$cache/uv UV_PYTHON_DOWNLOADS=never
echo "• preparing .venv (pinned: $lock; downloads cached in $cache)"
python=$(find_python)
uv=$(uv_command "$python")
if [[ ! -x .venv/bin/python ]]; then
  "$uv" venv --quiet --clear --python "$python" .venv
fi
# The lock is the whole resolved set (uv among it): installed as it is, nothing resolved.
"$uv" pip sync --quiet --python .venv/bin/python "$lock"
echo "$want" > "$stamp"
