#!/usr/bin/env bash
# Set up a checkout: system packages if missing (tmux, python3-venv, and any named as
# arguments), then .venv with tmux-guardian installed. `--dev` adds the test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=""
need=()
for arg in "$@"; do
  if [ "$arg" = --dev ]; then extras="[dev]"; else command -v "$arg" >/dev/null || need+=("$arg"); fi
done
command -v tmux >/dev/null || need+=(tmux)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ "${#need[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "setup: please install ${need[*]} with your system's package manager" >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "setup: installing ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { .venv/bin/python -m pip install --quiet --upgrade pip &&
       .venv/bin/python -m pip install --quiet --editable ".${extras}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "setup: installing tmux-guardian into .venv failed (output above)" >&2
  exit 1
fi
