#!/usr/bin/env bash
# Creates (or refreshes) the two Python 3.10 environments:
#   .venv       the application (gateway, channels, actions, store, tests)
#   .venv-rasa  Rasa Open Source 3.6.21, which pins libraries the application cannot share
# Idempotent: each venv carries a stamp with the hash of its requirement files, and is
# reinstalled only when that hash changes. Usage: scripts/setup.sh [app|rasa|all]
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"

find_python310() {
  if command -v python3.10 >/dev/null 2>&1 && python3.10 -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
    command -v python3.10; return 0
  fi
  local root
  if command -v pyenv >/dev/null 2>&1; then root="$(pyenv root)"; else root="${PYENV_ROOT:-$HOME/.pyenv}"; fi
  local candidate
  for candidate in $(ls -d "$root"/versions/3.10.*/bin/python 2>/dev/null | sort -V -r); do
    if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

PY310="$(find_python310)" || {
  echo "setup: Python 3.10 is required (Rasa 3.6 supports 3.8-3.10) and none was found." >&2
  echo "setup: install it (e.g. 'pyenv install 3.10') or put python3.10 on PATH, then retry." >&2
  exit 1
}

pip_quiet() {
  # pip's local-index warnings drown real errors: show everything else, keep pip's exit code.
  local log rc=0
  log="$(mktemp)"
  "$@" >"$log" 2>&1 || rc=$?
  grep -vE "is ignored: it is neither a file nor a directory|DEPRECATION: .* legacy 'setup.py install'" "$log" || true
  rm -f "$log"
  return "$rc"
}

ensure_venv() {  # venv, stamp inputs..., --, bootstrap packages..., --, install command...
  local venv="$1"; shift
  local inputs=() bootstrap=()
  while [ "$1" != "--" ]; do inputs+=("$1"); shift; done; shift
  while [ "$1" != "--" ]; do bootstrap+=("$1"); shift; done; shift
  local want; want="$(cat "${inputs[@]}" | sha256sum | cut -c1-16)"
  if [ -f "$venv/.stamp" ] && [ "$(cat "$venv/.stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
    return 0
  fi
  echo "setup: installing $venv (first time: a few minutes)"
  rm -f "$venv/.stamp"
  [ -x "$venv/bin/python" ] || "$PY310" -m venv "$venv"
  pip_quiet "$venv/bin/python" -m pip install -q --upgrade "${bootstrap[@]}" \
    || { echo "setup: could not bootstrap $venv" >&2; exit 1; }
  pip_quiet "$@" || { echo "setup: installing $venv failed (see above)" >&2; exit 1; }
  echo "$want" > "$venv/.stamp"
}

if [ "$what" = app ] || [ "$what" = all ]; then
  # The editable install builds without isolation: it needs setuptools and wheel first.
  ensure_venv .venv requirements/app.txt pyproject.toml -- pip setuptools wheel -- \
    .venv/bin/python -m pip install -q -r requirements/app.txt -e . --no-build-isolation
fi
if [ "$what" = rasa ] || [ "$what" = all ]; then
  # Only pip: a newer wheel would pull a packaging release that rasa 3.6 refuses.
  ensure_venv .venv-rasa requirements/rasa.txt requirements/rasa-constraints.txt -- pip -- \
    .venv-rasa/bin/python -m pip install -q -r requirements/rasa.txt -c requirements/rasa-constraints.txt
fi
