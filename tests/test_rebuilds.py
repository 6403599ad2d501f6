"""Rebuilds under real conditions: a watcher started beside a running server, a person's
close while no watcher ran, `status` without a watcher."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from recovery.health import Health
from tests.conftest import PrivateServer, wait_until
from tests.test_watcher import all_healthy, guard_for, healths, poll_until

pytestmark = pytest.mark.tmux


def test_a_session_missing_from_a_new_running_server_is_rebuilt_beside_it(
    guardian, tmux_server: PrivateServer, state_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    """The server crashed, the person started tmux again, then the watcher starts: it
    builds the missing session on the running server and touches nothing else."""
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "work")
    t.cmd("new-session", "-d", "-s", "notes")
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    t.crash()
    t.cmd("new-session", "-d", "-s", "fresh")  # a new server, as a person would start it
    pid = t.pid()
    guard = guard_for(t, state_dir)
    first = guard.poll()
    assert healths(first) == {
        "fresh": Health.HEALTHY,
        "work": Health.CRASHED,
        "notes": Health.CRASHED,
    }
    poll_until(guard, lambda v: all_healthy(v) and len(v) == 3)
    assert t.pid() == pid  # the same server: rebuilt beside what runs, never restarted
    names = sorted(t.cmd("list-sessions", "-F", "#{session_name}").split())
    assert names == ["fresh", "notes", "work"]


def test_a_session_closed_while_no_watcher_ran_is_closed_not_crashed(
    guardian, tmux_server: PrivateServer, state_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    """No hook was ever installed; the session vanished from the very server it was saved
    from: a person closed it (a crash takes a server's sessions all at once)."""
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "work")
    t.cmd("new-session", "-d", "-s", "done")
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    t.cmd("kill-session", "-t", "=done")
    status = json.loads(guardian("-S", str(t.socket), "status", "--json").out)
    assert {r["name"]: r["health"] for r in status["sessions"]} == {"work": "healthy"}
    guard = guard_for(t, state_dir)
    verdicts = guard.poll()
    assert healths(verdicts) == {"work": Health.HEALTHY}
    guard.poll()
    assert t.cmd("list-sessions", "-F", "#{session_name}").split() == ["work"]
    manifest = guard.store.read_manifest(str(t.socket))
    assert manifest is not None and list(manifest.sessions) == ["work"]


def test_status_without_a_watcher_calls_a_crash_a_crash(
    guardian, tmux_server: PrivateServer
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "work")
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    os.kill(t.pid(), signal.SIGKILL)
    wait_until(lambda: t.cmd("list-sessions", check=False) == "")
    t.cmd("new-session", "-d", "-s", "other")
    status = json.loads(guardian("-S", str(t.socket), "status", "--json").out)
    found = {r["name"]: r["health"] for r in status["sessions"]}
    assert found == {"other": "healthy", "work": "crashed"}


def test_a_rebuild_starts_from_the_newest_healthy_checkpoint_not_the_one_before_a_repair(
    tmux_server: PrivateServer, state_dir: Path, tmp_path: Path
) -> None:
    """A dead-pane repair checkpoints the session first (with the pane dead): that one is
    history, never the source of a later rebuild."""
    t = tmux_server
    work = tmp_path / "in a dir"
    work.mkdir()
    (work / "log").write_text("x\n")
    t.cmd("new-session", "-d", "-s", "s", "-x", "100", "-y", "30")
    t.cmd("split-window", "-t", "=s:", "-c", str(work), "tail -f log")
    guard = guard_for(t, state_dir)
    poll_until(guard, all_healthy)
    pane = t.lines("#{pane_id} #{pane_pid}")[1].split()
    os.kill(int(pane[1]), signal.SIGSEGV)  # the pane's own command dies of damage
    poll_until(guard, lambda v: healths(v)["s"] is Health.CORRUPTED)
    poll_until(guard, lambda v: all_healthy(v) and t.lines("#{pane_dead}")[1] == "0")
    reasons = [e["reason"] for e in _checkpoints(state_dir)]
    assert "pre-recovery" in reasons
    t.crash()
    poll_until(guard, lambda v: all_healthy(v) and len(t.lines("#{pane_id}")) == 2)
    wait_until(lambda: t.lines("#{pane_current_path} #{pane_current_command}")[1] == f"{work} tail")


def _checkpoints(state_dir: Path) -> list[dict[str, object]]:
    return [
        json.loads(p.read_text())["payload"]
        for p in sorted(state_dir.rglob("checkpoints/*/*/*.json"))
    ]


def test_retention_never_drops_the_newest_healthy_checkpoint(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from config.settings import Retention
    from recovery.store import CheckpointStore
    from tests.factories import checkpoint

    store = CheckpointStore(tmp_path / "state", Retention(keep_last=3, daily_days=0))
    start = datetime.now(UTC) - timedelta(minutes=10)
    with store.locked():
        healthy = store.write(checkpoint(when=start))
        for i in range(1, 8):  # a crash loop: one checkpoint around each failure
            failing = checkpoint(when=start + timedelta(seconds=i))
            store.write(failing.model_copy(update={"health": "corrupted"}))
    ids = [e.id for e in store.entries()]
    assert healthy.id in ids and len(ids) == 4
