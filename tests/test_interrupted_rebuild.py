"""A watcher killed in the middle of a rebuild, between any two of its tmux calls: the next
watcher finishes the job or rolls it back — every session comes back exactly once, whole,
and a half-built one never enters the restore set or a checkpoint."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from guardian.errors import TmuxError
from guardian.tmux.building import PREFIX
from tests.conftest import PrivateServer, wait_until
from tests.test_round_trip import read, shape

pytestmark = pytest.mark.tmux

WRAPPER = """#!/bin/sh
# tmux, as the watcher runs it; once armed, the Nth call kills the watcher first
if [ -e "{armed}" ]; then
  n=$(($(cat "{count}" 2>/dev/null || echo 0) + 1))
  echo "$n" > "{count}"
  if [ "$n" -eq "$(cat "{armed}")" ]; then kill -9 "$PPID"; exit 1; fi
fi
exec tmux "$@"
"""


def watcher(t: PrivateServer, env: dict[str, str], *extra: str) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "guardian.cli", "-S", str(t.socket), "watch", "--quiet"]
    return subprocess.Popen([*argv, "--interval", "0.2", *extra], env=env)


@pytest.mark.parametrize("call", range(1, 11))
def test_a_rebuild_interrupted_at_any_call_is_finished_by_the_next_watcher(
    tmux_server: PrivateServer, hermetic_env: Path, state_dir: Path, call: int
) -> None:
    t = tmux_server
    wrapper = hermetic_env / "tmux-wrapper"
    armed, count = hermetic_env / "armed", hermetic_env / "count"
    wrapper.write_text(WRAPPER.format(armed=armed, count=count))
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    env = {**os.environ, "TMUX_GUARDIAN_TMUX": str(wrapper)}
    (hermetic_env / "config.toml").write_text("checkpoint_interval = 0\ngrace_period = 0\n")
    t.cmd("new-session", "-d", "-s", "work", "-x", "120", "-y", "40")
    t.cmd("split-window", "-h", "-t", "=work:")
    t.cmd("new-window", "-t", "=work:", "-n", "logs")
    t.cmd("new-session", "-d", "-s", "notes", "-x", "100", "-y", "30")
    # (until its shell has started a pane's directory reads '' and its window is named
    # `tmux`: on a loaded machine, for a while)
    wait_until(
        lambda: all(
            p.cwd and w.name != "tmux" for s in read(t).sessions for w in s.windows for p in w.panes
        )
    )
    before = read(t)
    first = watcher(t, env)
    try:
        wait_until(lambda: len(list(state_dir.rglob("checkpoints/*/*/*.json"))) == 2, 10)
        armed.write_text(str(call))
        t.crash()
        assert first.wait(15) == -9  # killed by the wrapper at its Nth tmux call
    finally:
        if first.poll() is None:
            first.kill()
    armed.unlink()
    second = watcher(t, env)
    try:

        def whole() -> bool:
            try:
                now = read(t)
            except TmuxError:
                return False
            names = sorted(s.name for s in now.sessions)
            if names != ["notes", "work"]:
                return False
            return all(shape(now.session(s.name)) == shape(s) for s in before.sessions)  # type: ignore[arg-type]

        try:
            wait_until(whole, 20)
        except AssertionError:
            now = read(t)
            shapes = {s.name: shape(s) for s in now.sessions}
            wanted = {s.name: shape(s) for s in before.sessions}
            log = (state_dir / "watch.log").read_text()[-3000:]
            raise AssertionError(f"{shapes}\n!=\n{wanted}\n{log}") from None
        time.sleep(0.6)  # a few more polls: nothing else appears, nothing is rebuilt twice
        assert whole()
        assert not [s for s in read(t).sessions if s.name.startswith(PREFIX)]
    finally:
        second.terminate()
        second.wait(10)
    saved = {p.parent.name for p in state_dir.rglob("checkpoints/*/*/*.json")}
    assert saved == {"s-work", "s-notes"}
    manifest = next(state_dir.glob("servers/*.json")).read_text()
    assert PREFIX not in manifest and '"work"' in manifest and '"notes"' in manifest
