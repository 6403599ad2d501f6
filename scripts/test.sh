#!/usr/bin/env bash
# Set up (if needed) and run the checks and the test suite: ruff (lint and format), the
# size limits, the import contracts, mypy --strict on the core, then pytest. Tests only
# ever use private tmux servers (-S under /tmp) and temporary HOMEs. Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# The programs the tests restore (and attack through) are real ones.
bash scripts/setup.sh --dev --promtool less vim man:man-db ssh:openssh-client watch:procps bash zsh fish
.venv/bin/ruff check .
.venv/bin/ruff format --check --quiet .
.venv/bin/python scripts/check_sizes.py
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache
.venv/bin/mypy guardian recovery config
exec .venv/bin/python -m pytest "$@"
