#!/usr/bin/env bash
# Set up and run the test suite: a virtualenv in .venv, the package with its dev extras,
# then pytest. Tests only ever use private tmux servers (-S under /tmp) and temp HOMEs.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v tmux >/dev/null || { echo "tmux is missing: apt-get install tmux" >&2; exit 1; }
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip >/dev/null
.venv/bin/python -m pip install --quiet -e '.[dev]'
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
