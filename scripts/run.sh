#!/usr/bin/env bash
# Set up (if needed) and run tmux-guardian; arguments go to it (default: the UI).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/tmux-guardian "$@"
