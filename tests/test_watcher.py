"""Real faults on private servers: each is classified and repaired, or left alone when a
person caused it. The guard is driven poll by poll, so tests wait on conditions."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from config.settings import Backoff, Burst, Settings
from guardian.operations.engine import Engine
from guardian.tmux.targets import ServerTarget
from guardian.watch.guard import GuardOptions, ServerGuard
from guardian.watch.monitor import Monitor
from recovery.health import Health, Verdict
from recovery.journal import Journal
from recovery.shared import SharedStore
from tests.conftest import PrivateServer, wait_until
from tests.test_round_trip import read, shape

pytestmark = pytest.mark.tmux

FAST = Settings(
    tmux_timeout=1.0,
    freeze_grace=0.3,
    checkpoint_interval=0,
    grace_period=1.0,
    backoff=Backoff(initial=0.05, factor=2, max=0.4, jitter=0),
    burst=Burst(max=3, window=60),
)


def engine_for(server: PrivateServer, state_dir: Path, settings: Settings = FAST) -> Engine:
    return Engine(settings, state_dir, (ServerTarget.at_path(str(server.socket)),))


def guard_for(server: PrivateServer, state_dir: Path, **options: object) -> ServerGuard:
    engine = engine_for(server, state_dir)
    return ServerGuard(engine, engine.servers[0], GuardOptions(**options))  # type: ignore[arg-type]


def poll_until(
    guard: ServerGuard, condition: Callable[[list[Verdict]], bool], timeout: float = 8.0
) -> list[list[Verdict]]:
    """Poll until `condition(verdicts)`; return every poll's verdicts."""
    seen: list[list[Verdict]] = []
    deadline = time.monotonic() + timeout
    while True:
        seen.append(guard.poll())
        if condition(seen[-1]):
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached; last verdicts: {seen[-1]}")
        time.sleep(0.1)


def healths(verdicts: list[Verdict]) -> dict[str, Health]:
    return {v.session: v.health for v in verdicts}


def all_healthy(verdicts: list[Verdict]) -> bool:
    return bool(verdicts) and all(v.health is Health.HEALTHY for v in verdicts)


def journal(state_dir: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(e.model_dump_json()) for e in Journal(state_dir).read()]


def pane_pids(server: PrivateServer) -> list[str]:
    return server.lines("#{session_name} #{window_index}.#{pane_index} #{pane_pid}")


def server_from_removed_binary(server: PrivateServer, directory: Path, session: str) -> None:
    """Start `server` from a copy of tmux named `tmux` (so `comm` is tmux's), then delete
    the copy, as a package upgrade replaces the binary under a running server."""
    import shutil

    (directory / "old").mkdir()
    old = directory / "old" / "tmux"
    shutil.copy2(shutil.which("tmux") or "/usr/bin/tmux", old)
    subprocess.run(
        [str(old), "-S", str(server.socket), "-f", "/dev/null", "new-session", "-d", "-s", session],
        check=True,
    )
    old.unlink()


def test_kill_9_rebuilds_every_session(tmux_server: PrivateServer, state_dir: Path) -> None:
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "work", "-x", "120", "-y", "40")
    t.cmd("split-window", "-h", "-t", "work")
    t.cmd("new-window", "-t", "work", "-n", "logs")
    t.cmd("new-session", "-d", "-s", "notes ✓", "-x", "100", "-y", "30")
    guard = guard_for(t, state_dir)
    poll_until(guard, all_healthy)
    before = read(t)
    old_pid = t.pid()
    t.crash()
    polls = poll_until(guard, all_healthy)
    assert any(set(healths(p).values()) == {Health.CRASHED} for p in polls)
    after = read(t)
    assert after.server.pid != old_pid

    def same_shape() -> bool:  # automatic window names settle once the shells run
        now = read(t)
        return all(shape(now.session(s.name)) == shape(s) for s in before.sessions)  # type: ignore[arg-type]

    wait_until(same_shape)
    actions = [e for e in journal(state_dir) if e["kind"] == "action"]
    assert {e["session"] for e in actions} == {"work", "notes ✓"}
    assert all(e["outcome"].startswith("ok") for e in actions)


def test_sigstop_is_thawed_with_the_same_server_and_panes(
    tmux_server: PrivateServer, state_dir: Path
) -> None:
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "cold")
    t.cmd("split-window", "-t", "cold")
    guard = guard_for(t, state_dir)
    poll_until(guard, all_healthy)
    pid, panes = t.pid(), pane_pids(t)
    os.kill(pid, signal.SIGSTOP)
    try:
        polls = poll_until(guard, all_healthy)
    finally:
        os.kill(pid, signal.SIGCONT)  # never leave a stopped server behind
    assert any(healths(p).get("cold") is Health.FROZEN for p in polls)
    assert t.pid() == pid and pane_pids(t) == panes
    assert psutil.Process(pid).status() != psutil.STATUS_STOPPED
    assert not any("rebuild" in (e.get("action") or "") for e in journal(state_dir))


def test_deleted_socket_is_recreated_for_the_same_server(
    tmux_server: PrivateServer, state_dir: Path
) -> None:
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "lost")
    guard = guard_for(t, state_dir)
    poll_until(guard, all_healthy)
    pid, panes = t.pid(), pane_pids(t)
    t.socket.unlink()
    polls = poll_until(guard, all_healthy)
    assert any(healths(p).get("lost") is Health.DISCONNECTED for p in polls)
    assert t.socket.exists()
    assert t.pid() == pid and pane_pids(t) == panes


def test_killed_pane_program_is_respawned_in_place(
    tmux_server: PrivateServer, state_dir: Path, tmp_path: Path
) -> None:
    t = tmux_server
    directory = tmp_path / "log dir 'q'"
    directory.mkdir()
    (directory / "app.log").write_text("x\n")
    t.cmd("new-session", "-d", "-s", "svc", "-x", "100", "-y", "30")
    t.cmd("split-window", "-t", "svc", "-c", str(directory), "tail", "-f", "app.log")
    guard = guard_for(t, state_dir)
    poll_until(guard, all_healthy)
    shell_pid = t.lines("#{pane_index} #{pane_pid}")[0].split()[1]
    tail_pid = int(t.lines("#{pane_index} #{pane_pid}")[1].split()[1])
    os.kill(tail_pid, signal.SIGKILL)
    wait_until(lambda: t.lines("#{pane_dead}")[1] == "1")
    # Respawned, not merely still there: when tmux lost the exit status (its SIGCHLD bug,
    # about one kill in six) the first poll asks it to reap and judges nothing yet.
    polls = poll_until(guard, lambda v: all_healthy(v) and t.lines("#{pane_dead}") == ["0", "0"])
    assert any(healths(p).get("svc") is Health.CORRUPTED for p in polls), [
        [(v.session, v.health, v.evidence) for v in p] for p in polls
    ]
    pane = read(t).session("svc").windows[0].panes[1]  # type: ignore[union-attr]
    assert not pane.dead and pane.cwd == str(directory)
    assert pane.program is not None and pane.program.argv == ("tail", "-f", "app.log")
    assert pane.program.pid != tail_pid
    assert t.lines("#{pane_index} #{pane_pid}")[0].split()[1] == shell_pid  # untouched


def test_stopped_program_in_a_pane_is_continued(
    tmux_server: PrivateServer, state_dir: Path
) -> None:
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "job", "sleep 300; true")  # sh -c: no job control
    guard = guard_for(t, state_dir)
    poll_until(guard, all_healthy)
    sleeper = next(
        p for p in psutil.Process(int(t.lines("#{pane_pid}")[0])).children() if p.name() == "sleep"
    )
    sleeper.suspend()
    polls = poll_until(guard, lambda v: all_healthy(v) and sleeper.status() != "stopped")
    assert any(healths(p).get("job") is Health.FROZEN for p in polls)
    assert sleeper.is_running() and sleeper.status() != psutil.STATUS_STOPPED


def test_a_persons_doings_are_never_failures(tmux_server: PrivateServer, state_dir: Path) -> None:
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "keep", "-x", "120", "-y", "40")
    t.cmd("split-window", "-t", "keep")  # shell that will exit 0
    t.cmd("split-window", "-t", "keep")  # shell that will exit 1
    t.cmd("split-window", "-t", "keep", "tail", "-f", "/dev/null")  # Ctrl-C'd
    t.cmd("select-layout", "-t", "keep", "tiled")
    t.cmd("new-session", "-d", "-s", "closeme")
    guard = guard_for(t, state_dir)
    poll_until(guard, all_healthy)
    ids = t.cmd("list-panes", "-t", "keep", "-F", "#{pane_id}").split()
    t.cmd("send-keys", "-t", ids[1], "exit 0", "Enter")
    t.cmd("send-keys", "-t", ids[2], "exit 1", "Enter")
    t.cmd("send-keys", "-t", ids[3], "C-c")
    t.cmd("kill-session", "-t", "closeme")
    polls = poll_until(guard, lambda v: read(t).session("keep").pane_count == 1)  # type: ignore[union-attr]
    for _ in range(5):
        polls.append(guard.poll())
        time.sleep(0.05)
    assert all(v.health is Health.HEALTHY for p in polls for v in p)
    assert [s.name for s in read(t).sessions] == ["keep"]
    assert not [e for e in journal(state_dir) if (e.get("action") or "").startswith("respawn")]
    manifest = guard.store.read_manifest(str(t.socket))
    assert manifest is not None and list(manifest.sessions) == ["keep"]


def test_kill_server_is_left_stopped_then_rebuilt_at_next_start(
    tmux_server: PrivateServer, state_dir: Path
) -> None:
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "a")
    t.cmd("new-session", "-d", "-s", "b")
    guard = guard_for(t, state_dir)
    poll_until(guard, all_healthy)
    t.cmd("kill-server")
    polls = poll_until(guard, lambda v: set(healths(v).values()) == {Health.STOPPED})
    for _ in range(3):
        polls.append(guard.poll())
    assert set(healths(polls[-1]).values()) == {Health.STOPPED}
    assert t.cmd("list-sessions", check=False) == ""  # not rebuilt by the running watcher
    restarted = guard_for(t, state_dir)  # the watcher starts again (login, boot)
    poll_until(restarted, lambda v: all_healthy(v) and len(v) == 2)
    assert sorted(s.name for s in read(t).sessions) == ["a", "b"]


def test_watcher_restart_after_a_crash_rebuilds_the_restore_set(
    guardian, tmux_server: PrivateServer, state_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    for name in ("one", "two"):
        t.cmd("new-session", "-d", "-s", name)
    guard = guard_for(t, state_dir)
    poll_until(guard, all_healthy)
    t.cmd("kill-session", "-t", "two")  # closed by a person: leaves the restore set
    poll_until(guard, lambda v: len(v) == 1)
    t.crash()  # the watcher is not running now
    result = guardian("-S", str(t.socket), "watch", "--once", "--quiet")
    assert result.code == 0, result
    assert [s.name for s in read(t).sessions] == ["one"]


def test_crash_loop_gives_up_and_a_person_can_reset(
    guardian, tmux_server: PrivateServer, state_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "flaky", "-x", "80", "-y", "24")
    # An allowlisted program as the pane's own command: the only kind respawned (a
    # person's one-off command that fails is never run again by the watcher).
    t.cmd("split-window", "-t", "flaky", "tail -f /dev/null")
    guard = guard_for(t, state_dir)
    poll_until(guard, all_healthy)
    crash_pane = t.lines("#{pane_id}")[1]
    key = f"{t.socket}\tflaky"

    def segfault_it() -> None:
        """From now on the program dies of SIGSEGV soon after every start."""
        for line in t.lines("#{pane_id} #{pane_dead} #{pane_pid}"):
            pane, dead, pid = line.split()
            if pane == crash_pane and dead == "0":
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGSEGV)

    wait_until(
        lambda: (
            key in SharedStore(state_dir).load().given_up or (segfault_it(), guard.poll()) is None
        ),
        timeout=20,
    )
    reason = SharedStore(state_dir).load().given_up[key].reason
    assert "3 recoveries" in reason
    respawns = [e for e in journal(state_dir) if (e.get("action") or "").startswith("checkpoint")]
    assert len(respawns) == 3
    for _ in range(3):
        guard.poll()  # sticky: no more attempts
    assert (
        len([e for e in journal(state_dir) if (e.get("action") or "").startswith("checkpoint")])
        == 3
    )
    status = json.loads(guardian("-S", str(t.socket), "status", "--json").out)
    row = next(r for r in status["sessions"] if r["name"] == "flaky")
    assert row["health"] == "corrupted" and "3 recoveries" in row["given_up"]
    result = guardian("-S", str(t.socket), "recover", "flaky")
    assert key not in SharedStore(state_dir).load().given_up
    assert "flaky" in result.out


def test_no_recover_only_classifies_and_journals(
    tmux_server: PrivateServer, state_dir: Path
) -> None:
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "w")
    guard = guard_for(t, state_dir, recover=False)
    poll_until(guard, all_healthy)
    t.crash()
    verdicts = guard.poll()
    assert healths(verdicts) == {"w": Health.CRASHED}
    guard.poll()
    assert t.cmd("list-sessions", check=False) == ""
    entries = journal(state_dir)
    assert [e["health"] for e in entries if e["kind"] == "verdict"] == ["crashed"]
    assert not [e for e in entries if e["kind"] == "action"]


async def test_monitor_is_not_blocked_by_a_frozen_server(
    tmux_server: PrivateServer, state_dir: Path, tmp_path: Path
) -> None:
    other = PrivateServer(Path(str(tmux_server.socket) + "2"))
    tmux_server.cmd("new-session", "-d", "-s", "stuck")
    other.cmd("new-session", "-d", "-s", "fine")
    settings = FAST.model_copy(update={"tmux_timeout": 0.5})
    engine = Engine(
        settings,
        state_dir,
        (ServerTarget.at_path(str(tmux_server.socket)), ServerTarget.at_path(str(other.socket))),
    )
    monitor = Monitor(engine, GuardOptions(recover=False))
    pid = tmux_server.pid()
    try:
        await monitor.poll_once()
        # a stopped server whose pid we did not learn yet: only the timeout tells
        monitor.guards[0].memory = monitor.guards[0].memory.model_copy(update={"pid": None})
        os.kill(pid, signal.SIGSTOP)
        started = time.monotonic()
        verdicts = await monitor.poll_once()
        elapsed = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGCONT)
        other.cmd("kill-server", check=False)
    assert elapsed < 0.5 + 1.0
    assert healths(verdicts)["fine"] is Health.HEALTHY


def test_a_second_watcher_with_another_state_dir_is_refused_and_named(
    tmux_server: PrivateServer, hermetic_env: Path
) -> None:
    """One watcher per tmux server whatever the state dir (a tmux.conf line and a systemd
    unit with different ones would both repair, and each would call the other's rebuild
    a change): the second is told who guards it and with which state dir."""
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "w")
    base = [sys.executable, "-m", "guardian.cli", "-S", str(t.socket)]
    one, two = hermetic_env / "state-one", hermetic_env / "state-two"
    first = subprocess.Popen(
        [*base, "--state-dir", str(one), "watch", "--interval", "0.2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: t.cmd("show-options", "-gwv", "remain-on-exit").strip() == "failed")
        second = subprocess.run(
            [*base, "--state-dir", str(two), "watch", "--once"],
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert second.returncode == 1, second
        assert f"another watcher (pid {first.pid}, state dir {one}) already guards" in second.stderr
        assert not list(two.rglob("*.json"))  # it did nothing
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=10)


def test_second_watcher_is_refused_and_sigterm_restores_options(
    guardian, tmux_server: PrivateServer, hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "w")
    # the person's own value (with "on" the watcher changes nothing: test_remain_on_exit_on)
    t.cmd("set-option", "-gw", "remain-on-exit", "off")
    argv = [sys.executable, "-m", "guardian.cli", "-S", str(t.socket), "watch", "--interval", "0.2"]
    env = {**os.environ}
    first = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_until(lambda: t.cmd("show-options", "-gwv", "remain-on-exit").strip() == "failed")
        second = subprocess.run(
            [*argv, "--once"], env=env, capture_output=True, text=True, timeout=20
        )
        assert second.returncode == 1
        assert f"another watcher (pid {first.pid}" in second.stderr
        status = json.loads(guardian("-S", str(t.socket), "status", "--json").out)
        assert status["servers"][0]["watcher_pid"] == first.pid  # read from its live state
        assert status["sessions"][0]["health"] == "healthy"
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=10) == 0
    finally:
        if first.poll() is None:
            first.kill()
    assert t.cmd("show-options", "-gwv", "remain-on-exit").strip() == "off"
    assert "Traceback" not in first.stderr.read()  # type: ignore[union-attr]


def test_remain_on_exit_on_is_the_persons_to_keep(
    tmux_server: PrivateServer, state_dir: Path
) -> None:
    """A person who keeps dead panes keeps them: the watcher neither changes the option
    nor closes a pane that ended normally; damage is still repaired."""
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "w", "-x", "100", "-y", "30")
    t.cmd("set-option", "-gw", "remain-on-exit", "on")
    t.cmd("split-window", "-t", "=w:", "exit 0")
    guard = guard_for(t, state_dir)
    for _ in range(5):
        guard.poll()
    assert t.cmd("show-options", "-gwv", "remain-on-exit").strip() == "on"
    assert [line.split()[1] for line in t.lines("#{pane_id} #{pane_dead}")] == ["0", "1"]


def test_xoff_is_released_with_ctrl_q(tmux_server: PrivateServer, state_dir: Path) -> None:
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "flow", "-x", "80", "-y", "24")
    guard = guard_for(t, state_dir)
    poll_until(guard, all_healthy)
    t.cmd("send-keys", "-t", "flow", "yes > /dev/tty", "Enter")
    wait_until(lambda: read(t).session("flow").windows[0].panes[0].program is not None)  # type: ignore[union-attr]
    t.cmd("send-keys", "-t", "flow", "C-s")
    try:
        polls = poll_until(guard, lambda v: healths(v).get("flow") is Health.FROZEN)
        assert polls[-1][0].xoff_panes
        poll_until(guard, all_healthy)  # the guard sent C-q
        yes = read(t).session("flow").windows[0].panes[0].program  # type: ignore[union-attr]
        assert yes is not None and yes.argv == ("yes",)
        first = psutil.Process(yes.pid).io_counters().write_chars
        wait_until(lambda: psutil.Process(yes.pid).io_counters().write_chars > first + 10_000)
        for _ in range(5):  # flowing output is never taken for XOFF, even at history-limit
            assert healths(guard.poll())["flow"] is Health.HEALTHY
            time.sleep(0.1)
    finally:
        t.cmd("send-keys", "-t", "flow", "C-q", check=False)
        t.cmd("send-keys", "-t", "flow", "C-c", check=False)


def test_split_brain_touches_neither_server(tmux_server: PrivateServer, state_dir: Path) -> None:
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "old")
    guard = guard_for(t, state_dir)
    poll_until(guard, all_healthy)
    orphan = t.pid()
    t.socket.unlink()
    t.cmd("new-session", "-d", "-s", "new")  # someone ran tmux: a second server owns the path
    usurper = t.pid()
    try:
        polls = poll_until(guard, lambda v: healths(v).get("old") is Health.DISCONNECTED)
        verdict = next(v for v in polls[-1] if v.session == "old")
        assert (verdict.server_pid, verdict.other_pid) == (orphan, usurper)
        for _ in range(3):
            guard.poll()
        assert t.pid() == usurper  # the path was not stolen back with SIGUSR1
        assert psutil.pid_exists(orphan) and psutil.Process(orphan).status() != "zombie"
        told = [e for e in journal(state_dir) if "nothing was changed" in (e.get("action") or "")]
        assert told
    finally:
        os.kill(orphan, signal.SIGKILL)


def test_server_running_a_replaced_binary_is_disconnected(
    tmux_server: PrivateServer, state_dir: Path, tmp_path: Path
) -> None:
    server_from_removed_binary(tmux_server, tmp_path, "up")
    guard = guard_for(tmux_server, state_dir)
    polls = poll_until(guard, lambda v: healths(v).get("up") is Health.DISCONNECTED)
    verdict = polls[-1][0]
    assert verdict.binary == f"/proc/{tmux_server.pid()}/exe"
    assert any("attach with" in (e.get("action") or "") for e in journal(state_dir))


def test_a_rename_is_followed_not_a_close(tmux_server: PrivateServer, state_dir: Path) -> None:
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "before")
    guard = guard_for(t, state_dir)
    poll_until(guard, all_healthy)
    t.cmd("rename-session", "-t", "before", "after")
    verdicts = guard.poll()
    assert healths(verdicts) == {"after": Health.HEALTHY}
    assert not [e for e in journal(state_dir) if e["kind"] == "note"]
    manifest = guard.store.read_manifest(str(t.socket))
    assert manifest is not None and list(manifest.sessions) == ["after"]


def test_removed_hook_is_installed_again(tmux_server: PrivateServer, state_dir: Path) -> None:
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "h")
    t.cmd("set-hook", "-g", "session-closed[3]", "display-message mine")  # the person's own
    guard = guard_for(t, state_dir)
    poll_until(guard, all_healthy)
    assert "session-closed[42]" in t.cmd("show-hooks", "-g", "session-closed")
    t.cmd("set-hook", "-gu", "session-closed[42]")  # e.g. a `source-file` of their config
    for _ in range(6):
        guard.poll()
    hooks = t.cmd("show-hooks", "-g", "session-closed")
    assert "session-closed[42]" in hooks and "session-closed[3] display-message mine" in hooks


def test_paused_session_is_watched_but_not_recovered(
    guardian, tmux_server: PrivateServer, state_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    from guardian.operations.sessions import toggle_pause

    t = tmux_server
    t.cmd("new-session", "-d", "-s", "held", "-x", "80", "-y", "24")
    t.cmd("split-window", "-t", "held", "tail", "-f", "/dev/null")
    guard = guard_for(t, state_dir)
    poll_until(guard, all_healthy)
    assert toggle_pause(guard.engine, str(t.socket), "held") is True
    os.kill(int(t.lines("#{pane_pid}")[1]), signal.SIGKILL)
    wait_until(lambda: t.lines("#{pane_dead}")[1] == "1")
    for _ in range(3):
        verdicts = guard.poll()
    assert healths(verdicts) == {"held": Health.CORRUPTED}
    assert t.lines("#{pane_dead}")[1] == "1"  # left alone while paused
    assert next(v for v in guard.views if v.verdict.session == "held").paused
    history = json.loads(guardian("history", "--json").out)["entries"]
    assert history[-1]["health"] == "corrupted" and history[-1]["kind"] == "verdict"
    assert {"at", "server", "session", "kind", "evidence"} <= set(history[-1])
    toggle_pause(guard.engine, str(t.socket), "held")
    poll_until(guard, lambda v: all_healthy(v) and t.lines("#{pane_dead}")[1] == "0")


def test_a_rebuild_that_falls_short_keeps_the_missing_session(
    tmux_server: PrivateServer, state_dir: Path
) -> None:
    from tests.test_transactions import resign

    t = tmux_server
    for name in ("good", "bad"):
        t.cmd("new-session", "-d", "-s", name, "-x", "100", "-y", "30")
        t.cmd("split-window", "-t", name)
    guard = guard_for(t, state_dir)
    poll_until(guard, all_healthy)
    (entry,) = guard.store.entries(str(t.socket), "bad")
    # no room for the second pane: tmux refuses the rebuild (a layout it would refuse never
    # reaches it any more)
    resign(entry.path, lambda p: p["session"]["windows"][0].update(width=1, height=1))
    t.crash()
    polls = poll_until(guard, lambda v: healths(v).get("good") is Health.HEALTHY)
    for _ in range(3):
        polls.append(guard.poll())
        time.sleep(0.1)
    assert healths(polls[-1])["bad"] is Health.CRASHED  # never "closed by a person"
    assert "did not come back" in next(v for v in polls[-1] if v.session == "bad").evidence[0]
    manifest = guard.store.read_manifest(str(t.socket))
    assert manifest is not None and set(manifest.sessions) == {"good", "bad"}
    assert not [e for e in journal(state_dir) if e["kind"] == "note"]


def test_after_an_upgrade_the_server_is_reached_through_its_own_binary(
    tmux_server: PrivateServer, state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server_from_removed_binary(tmux_server, tmp_path, "up")
    # The installed client is now one that cannot speak to the old server. A real
    # incompatible tmux build cannot be had offline: this one fails the way such a client does.
    new = tmp_path / "tmux-new"
    new.write_text("#!/bin/sh\necho 'protocol version mismatch (client 9, server 8)' >&2\nexit 1\n")
    new.chmod(0o755)
    monkeypatch.setenv("TMUX_GUARDIAN_TMUX", str(new))
    guard = guard_for(tmux_server, state_dir)
    polls = poll_until(guard, lambda v: healths(v).get("up") is Health.DISCONNECTED)
    verdict = polls[-1][0]
    pid = tmux_server.pid()
    assert verdict.binary == f"/proc/{pid}/exe" and guard.adapter.binary == f"/proc/{pid}/exe"
    for _ in range(4):
        assert healths(guard.poll()) == {"up": Health.DISCONNECTED}
    told = [e for e in journal(state_dir) if "attach with" in (e.get("action") or "")]
    assert len(told) == 1  # told once, not at every poll
    tmux_server.crash()
    guard.poll()  # its binary is gone with it: back to the installed tmux, no exception
    assert guard.adapter.binary == str(new)


def test_an_unchanged_sessions_checkpoint_is_never_alone(
    tmux_server: PrivateServer, state_dir: Path
) -> None:
    """Found by scripts/chaos.py: a session that never changes had one checkpoint; one
    damaged file (a bit flip, a torn write on a full disk) and a crash lost it. The watcher
    keeps a spare copy, and only one."""
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "still", "-x", "100", "-y", "30")
    t.cmd("split-window", "-t", "still")
    guard = guard_for(t, state_dir)
    poll_until(guard, lambda v: all_healthy(v) and len(guard.store.entries(str(t.socket))) == 2)
    for _ in range(3):
        guard.poll()
    entries = guard.store.entries(str(t.socket), "still")
    assert len(entries) == 2  # a spare, not a copy per poll
    newest = entries[0].path
    data = newest.read_bytes()
    middle = len(data) // 2
    newest.write_bytes(data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :])
    t.crash()
    poll_until(guard, lambda v: healths(v) == {"still": Health.HEALTHY})
    assert len(t.lines("#{pane_id}")) == 2
    assert list(guard.store.quarantine_dir.rglob("*.json"))


def test_a_spare_is_written_again_after_a_crash_used_one(
    tmux_server: PrivateServer, state_dir: Path
) -> None:
    """Found by scripts/chaos.py: the spare was remembered as written across a crash whose
    rebuild quarantined the newest file, so the session was left with one checkpoint and
    the next damaged crash lost it."""
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "still", "-x", "100", "-y", "30", "-n", "w")
    t.cmd("set-option", "-w", "-t", "still:w", "automatic-rename", "off")  # nothing changes
    guard = guard_for(t, state_dir)
    poll_until(guard, lambda v: all_healthy(v) and len(guard.store.entries(str(t.socket))) == 2)
    for _ in range(2):
        for _poll in range(3):  # healthy polls: the watcher knows the session has its spare
            guard.poll()
        newest = guard.store.entries(str(t.socket), "still")[0].path
        newest.write_bytes(newest.read_bytes()[:-20])  # torn
        t.crash()
        poll_until(
            guard,
            lambda v: (
                healths(v) == {"still": Health.HEALTHY}
                and len(guard.store.entries(str(t.socket), "still")) == 2
            ),
        )


def test_a_builders_session_left_by_a_killed_watcher_is_never_judged(
    tmux_server: PrivateServer, state_dir: Path
) -> None:
    """Found by scripts/chaos.py: a watcher killed mid-rebuild left `_tg-building-...`
    sessions; the next crash judged them "crashed" and tried to rebuild them (3 false
    actions in 200 faults)."""
    from guardian.tmux.building import PREFIX

    t = tmux_server
    t.cmd("new-session", "-d", "-s", "work")
    t.cmd("new-session", "-d", "-s", f"{PREFIX}999-deadbeef")
    guard = guard_for(t, state_dir)
    poll_until(guard, lambda v: healths(v) == {"work": Health.HEALTHY})
    t.crash()
    polls = poll_until(guard, lambda v: healths(v) == {"work": Health.HEALTHY})
    for _ in range(3):
        polls.append(guard.poll())
    judged = {v.session for poll in polls for v in poll}
    assert judged == {"work"}
    about_builder = [e for e in journal(state_dir) if e["session"] != "work"]
    assert [e["outcome"] for e in about_builder] == [
        "rolled back a rebuild its builder did not finish"
    ]


def test_a_watcher_refused_because_a_ui_guards_says_it_is_a_ui(
    tmux_server: PrivateServer, hermetic_env: Path
) -> None:
    """A UI guarding in its window while no watcher ran: `watch` is told a UI holds the
    server (not 'another watcher', naming the UI's pid as if it were one)."""
    from guardian.view import EngineService

    t = tmux_server
    t.cmd("new-session", "-d", "-s", "w")
    service = EngineService(engine_for(t, hermetic_env / "state", FAST))
    service.start()
    try:
        assert service.guarding
        refused = subprocess.run(
            [sys.executable, "-m", "guardian.cli", "-S", str(t.socket), "watch", "--once"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    finally:
        service.stop()
    assert refused.returncode == 1
    assert f"a tmux-guardian UI (pid {os.getpid()}" in refused.stderr
    assert "another watcher" not in refused.stderr
