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

lock_covers_requests() {  # every pin of app.txt (and dev.in) is in its lock, same version
  "$PY310" - "$@" <<'PYEOF'
import re, sys

def pins(path):
    found = {}
    for line in open(path, encoding="utf-8"):
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;#\\]+)", line)
        if match:
            found[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(3)
    return found

stale = []
for wanted, lock in zip(sys.argv[1::2], sys.argv[2::2]):
    have = pins(lock)
    stale += [f"{name}=={version}" for name, version in pins(wanted).items()
              if have.get(name) != version]
if stale:
    print(" ".join(stale))
    sys.exit(1)
PYEOF
}

install_app() {
  # The locks pin everything with hashes (pip-tools; `make lock` after editing app.txt or
  # dev.in). Production's image installs app.lock only; tests and tools come from dev.lock.
  .venv/bin/python -m pip install -q --require-hashes -r requirements/app.lock &&
  .venv/bin/python -m pip install -q --require-hashes -r requirements/dev.lock || return 1
  local stale
  if ! stale="$(lock_covers_requests requirements/app.txt requirements/app.lock \
                requirements/dev.in requirements/dev.lock)"; then
    if [ -n "${CI:-}" ]; then
      echo "setup: the lock files do not pin $stale as requested: run \`make lock\`" >&2
      return 1
    fi
    echo "setup: WARNING: the lock files do not pin $stale as requested; installed without" \
         "hashes for now: run \`make lock\` and commit the locks" >&2
    # shellcheck disable=SC2086
    .venv/bin/python -m pip install -q $stale || return 1
  fi
  # The editable install builds without isolation: it needs setuptools and wheel first.
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
}

ensure_chromium() {
  # The dashboard's browser test drives Debian's chromium with Playwright (never a downloaded
  # browser). Installed with apt-get when we are root and it is missing; otherwise that one
  # test says why it is skipped.
  command -v chromium >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian's chromium for the browser test (apt-get)"
    (apt-get install -y -q chromium >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }) ||
      echo "setup: WARNING: chromium could not be installed; the browser test will be skipped" >&2
  fi
  return 0
}

if [ "$what" = app ] || [ "$what" = all ]; then
  ensure_chromium
  ensure_venv .venv requirements/app.txt requirements/app.lock requirements/dev.in \
    requirements/dev.lock pyproject.toml -- pip setuptools wheel -- install_app
fi
if [ "$what" = rasa ] || [ "$what" = all ]; then
  # Only pip: a newer wheel would pull a packaging release that rasa 3.6 refuses.
  ensure_venv .venv-rasa requirements/rasa.txt requirements/rasa-constraints.txt -- pip -- \
    .venv-rasa/bin/python -m pip install -q -r requirements/rasa.txt -c requirements/rasa-constraints.txt
fi
