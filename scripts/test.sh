#!/usr/bin/env bash
# Set up (if needed) and run the test suite: ruff, then pytest. Tests only ever use
# private tmux servers (-S under /tmp) and temporary HOMEs. Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev less
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
