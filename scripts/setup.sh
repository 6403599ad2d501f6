#!/usr/bin/env bash
# Set up a checkout: system packages if missing (tmux, python3-venv, and any named as
# arguments: COMMAND or COMMAND:PACKAGE), then .venv with tmux-guardian installed. `--dev`
# adds the test tools; `--promtool` puts Prometheus's promtool into .venv/bin.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=""
need=()
promtool=""
for arg in "$@"; do
  if [ "$arg" = --dev ]; then
    extras="[dev]"
  elif [ "$arg" = --promtool ]; then
    promtool=yes
  else
    command -v "${arg%%:*}" >/dev/null || need+=("${arg#*:}")
  fi
done
command -v tmux >/dev/null || need+=(tmux)
[ -x .venv/bin/python ] || python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
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
# promtool checks contrib/prometheus and the watcher's metrics file. It is taken out of
# Debian's `prometheus` package into .venv/bin rather than installed: installing the
# package would also install (and, with systemd, start) a Prometheus server.
if [ -n "$promtool" ] && ! command -v promtool >/dev/null && [ ! -x .venv/bin/promtool ]; then
  command -v apt-get >/dev/null || { echo "setup: please install promtool (Prometheus)" >&2; exit 1; }
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "setup: fetching promtool (Debian package prometheus)" >&2
  debs=$(mktemp -d)
  (cd "$debs" && apt-get download -qq prometheus 2>/dev/null) ||
    { $sudo apt-get update -qq && (cd "$debs" && apt-get download -qq prometheus); }
  dpkg-deb -x "$debs"/prometheus_*.deb "$debs/root"
  mkdir -p .venv/bin
  install -m 0755 "$debs/root/usr/bin/promtool" .venv/bin/promtool
  rm -rf "$debs"
fi
# A launch after the first costs no pip call: a stamp of what the install came from.
# (A .venv set up with the test tools also serves a launch without them.)
# (The interpreter the venv runs, by its real path: `python3 --version` through pyenv's
# shims alone costs a quarter of a second.)
stamp_file=.venv/.tmux-guardian-setup
stamp_of() { { cat pyproject.toml; readlink -f .venv/bin/python 2>/dev/null || true; } | sha256sum | cut -d' ' -f1; }
stamp=$(stamp_of)
if [ -x .venv/bin/python ] && [ -f "$stamp_file" ]; then
  read -r have have_extras < "$stamp_file" || true
  if [ "$have" = "$stamp" ] && { [ -z "$extras" ] || [ "${have_extras:-}" = "$extras" ]; }; then
    exit 0
  fi
fi
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv and installing tmux-guardian${extras:+ with its test tools} (once; a minute or so)" >&2
  python3 -m venv .venv
else
  echo "setup: pyproject.toml changed: updating .venv" >&2
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { .venv/bin/python -m pip install --quiet --upgrade pip &&
       .venv/bin/python -m pip install --quiet --editable ".${extras}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "setup: installing tmux-guardian into .venv failed (output above)" >&2
  exit 1
fi
printf '%s %s\n' "$(stamp_of)" "$extras" > "$stamp_file"
