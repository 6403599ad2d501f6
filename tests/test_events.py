"""Hearing an end as it happens: the read-only control client and pidfds (issue 14).

Real tmux servers, real kills: a watcher polling every 30 s must still repair within a
few seconds, which only an event can explain."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from conftest import PrivateServer, needs_tmux, wait_until

from guardian.errors import ServerNotAnsweringError
from guardian.tmux.adapter import TmuxAdapter
from guardian.tmux.closed_trace import ClosedLog
from guardian.tmux.control import control_line
from guardian.tmux.exits import ExitWatch
from guardian.tmux.targets import ServerTarget

pytestmark = [needs_tmux, pytest.mark.tmux]


def _adapter(server: PrivateServer, notices: list[str] | None = None) -> TmuxAdapter:
    adapter = TmuxAdapter(ServerTarget.at_path(str(server.socket)), timeout=1.0)
    adapter.keep_control_client((notices if notices is not None else []).append)
    return adapter


def _clients(server: PrivateServer) -> list[str]:
    return server.cmd("list-clients", "-F", "#{client_pid} #{client_flags}").splitlines()


def test_control_line_quotes_every_argument_and_refuses_what_it_cannot() -> None:
    line = control_line([["list-panes", "-F", "#{pane_id} $HOME ~ ;"], ["display-message"]])
    assert line == b"'list-panes' '-F' '#{pane_id} $HOME ~ ;' ; 'display-message'\n"
    for bad in ("it's", "a\nb", "a\rb"):
        with pytest.raises(ValueError):
            control_line([["display-message", "-p", bad]])


def test_control_read_equals_a_read_by_hand_and_our_client_is_no_person(
    tmux_server: PrivateServer,
) -> None:
    """The same state through the control client as through a `tmux` invocation, with
    hostile names; and the session our client sits on is not called attached."""
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "plain", "-x", "120", "-y", "40")
    t.cmd("new-session", "-d", "-s", "odd;$(x)#{pane_id}'\"", "-x", "100", "-y", "30")
    odd = t.cmd("list-sessions", "-F", "#{session_id}").split()[1]
    t.cmd("rename-window", "-t", f"{odd}:0", "w\n%end 1 2 1\n%exit")
    t.cmd("split-window", "-t", "plain:0", "-c", "/tmp")
    t.cmd("select-pane", "-t", "plain:0.0", "-T", "title\n%end 1 2 1\n%begin")
    hand = TmuxAdapter(ServerTarget.at_path(str(t.socket)))
    settled: list[dict[str, object]] = [{}]

    def still() -> bool:  # the shells have started and printed their prompts
        now = hand.read_server().model_dump(exclude={"read_at"})
        same, settled[0] = now == settled[0], now
        return same

    wait_until(still)
    by_hand = hand.read_server()
    adapter = _adapter(t)
    try:
        through_control = adapter.read_server()
        assert adapter.control_client_pid is not None
        assert any(line.startswith(f"{adapter.control_client_pid} ") for line in _clients(t))
        flags = next(c for c in _clients(t) if c.startswith(f"{adapter.control_client_pid} "))
        assert "control-mode" in flags and "read-only" in flags and "no-output" in flags
    finally:
        adapter.close_control_client()
    assert through_control.model_dump(exclude={"read_at"}) == by_hand.model_dump(
        exclude={"read_at"}
    )
    assert [s.attached for s in through_control.sessions] == [0, 0]
    names = {w.name for s in through_control.sessions for w in s.windows}
    assert "w\\n%end 1 2 1\\n%exit" in names  # tmux keeps it vis-encoded: one line
    panes = [p for s in through_control.sessions for w in s.windows for p in w.panes]
    assert "/tmp" in {p.cwd for p in panes}  # read from /proc, as tmux would say it
    assert {p.current_command for p in panes} == {"sh"}
    assert not _clients(t)  # closing ends our client (only ours)


@pytest.mark.parametrize(
    "setting",
    [
        ("set-option", "-g", "exit-unattached", "on"),
        ("set-option", "-t", "other", "destroy-unattached", "on"),
        ("set-hook", "-g", "client-attached", "run-shell 'touch {marker}'"),
        # on each session, named exactly: `set-hook -t` takes a pane target, where a bare
        # `s` may be found as the window `sh` of the current session (which one turned on
        # timing: 1 CI run in ~15 failed)
        ("set-hook", "-t", "={session}:", "client-session-changed", "run-shell 'touch {marker}'"),
    ],
)
def test_no_control_client_where_attaching_would_change_something(
    tmux_server: PrivateServer, tmp_path: Path, setting: tuple[str, ...]
) -> None:
    """A session that dies unattached, a server that exits unattached, a person's hook on
    clients coming and going: the watcher reads by hand instead, and no hook runs."""
    t = tmux_server
    marker = tmp_path / "hook-ran"
    t.cmd("new-session", "-d", "-s", "s")
    t.cmd("new-session", "-d", "-s", "other")
    # a person's client (with exit-unattached on, the server would end at once without one)
    person = subprocess.Popen(
        ["tmux", "-S", str(t.socket), "-C", "attach", "-t", "other"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    wait_until(lambda: len(_clients(t)) == 1)
    for session in ("s", "other") if "{session}" in setting else ("",):
        t.cmd(*(part.format(marker=marker, session=session) for part in setting))
    adapter = _adapter(t)
    try:
        state = adapter.read_server()
        assert {s.name for s in state.sessions} == {"s", "other"}
        assert adapter.control_client_pid is None
        time.sleep(0.2)
        assert not marker.exists()
        assert [c.split()[0] for c in _clients(t)] == [str(person.pid)]
    finally:
        adapter.close_control_client()
        person.kill()
        person.wait()


def test_control_client_hears_the_server_die_at_once(tmux_server: PrivateServer) -> None:
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "s")
    notices: list[str] = []
    adapter = _adapter(t, notices)
    adapter.read_server()
    pid = adapter.control_client_pid
    assert pid is not None
    os.kill(t.pid(), signal.SIGKILL)
    wait_until(lambda: "%exit" in notices, timeout=1.0)
    wait_until(lambda: not psutil.pid_exists(pid) or _zombie(pid), timeout=2.0)
    adapter.close_control_client()


def test_a_stopped_server_times_out_and_the_client_comes_back_after(
    tmux_server: PrivateServer,
) -> None:
    """SIGSTOP: the control read fails by its timeout (the stuck client is ended, its late
    answer never read as another's); after SIGCONT a new client reads again."""
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "s")
    adapter = _adapter(t)
    adapter.read_server()
    first = adapter.control_client_pid
    server = t.pid()
    os.kill(server, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(ServerNotAnsweringError):
            adapter.read_server()
        assert time.monotonic() - started < 2.5
        assert adapter.control_client_pid is None
    finally:
        os.kill(server, signal.SIGCONT)
    time.sleep(1.1)  # past the retry pause
    assert [s.name for s in adapter.read_server().sessions] == ["s"]
    assert adapter.control_client_pid not in (None, first)
    adapter.close_control_client()


def test_a_busy_pane_is_never_stalled_by_our_client(
    tmux_server: PrivateServer, tmp_path: Path
) -> None:
    """A pane printing fast finishes with our control client attached (no-output: it
    never receives what panes print, so it can never hold them up)."""
    t = tmux_server
    done = tmp_path / "done"
    t.cmd("new-session", "-d", "-s", "s")
    adapter = _adapter(t)
    try:
        adapter.read_server()
        assert adapter.control_client_pid is not None
        t.cmd("send-keys", "-t", "s", f"seq 1 200000; touch {done}", "Enter")
        wait_until(done.exists, timeout=30)
    finally:
        adapter.close_control_client()


def _zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def test_exit_watch_hears_an_unreaped_end_and_only_what_it_watches() -> None:
    """A pidfd is readable when the process ends, before anyone reaps it (a pane whose
    exit tmux never recorded is still heard)."""
    ended: list[int] = []
    watch = ExitWatch(ended.append)
    children = [subprocess.Popen(["sleep", "60"]) for _ in range(3)]
    try:
        watch.watch(c.pid for c in children[:2])
        children[0].kill()  # never waited for: a zombie
        wait_until(lambda: ended == [children[0].pid], timeout=1.0)
        assert _zombie(children[0].pid)
        children[2].kill()  # not watched
        watch.watch([children[1].pid])  # the set shrinks
        children[1].kill()
        wait_until(lambda: children[1].pid in ended, timeout=1.0)
        time.sleep(0.1)
        assert ended == [children[0].pid, children[1].pid]
        assert watch.watched == set()
    finally:
        watch.close()
        for child in children:
            child.kill()
            child.wait()


def _watch(server: PrivateServer, state: Path, config: Path) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "guardian.cli", "-S", str(server.socket)]
    argv += ["--state-dir", str(state), "--config", str(config), "watch", "--interval", "30"]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_a_watcher_polling_every_30s_repairs_a_crash_and_a_killed_pane_at_once(
    tmux_server: PrivateServer, tmp_path: Path
) -> None:
    """kill -9 of a pane's program, then of the server: each repaired within seconds by a
    watcher whose next poll is half a minute away."""
    t = tmux_server
    config = tmp_path / "events.toml"
    config.write_text("grace_period = 0\n")
    t.cmd("new-session", "-d", "-s", "work", "-x", "100", "-y", "30", "tail -f /dev/null")
    t.cmd("split-window", "-t", "work", "tail -f /dev/null")
    watcher = _watch(t, tmp_path / "state", config)
    try:
        wait_until(lambda: t.cmd("show-options", "-gwv", "remain-on-exit").strip() == "failed")
        wait_until(lambda: any((tmp_path / "state" / "checkpoints").rglob("*.json")), timeout=10)
        time.sleep(0.5)
        victim = t.pane_pids()[0]
        killed = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        wait_until(
            lambda: (
                len(set(t.pane_pids()) - {victim}) == 2 and t.lines("#{pane_dead}") == ["0", "0"]
            ),
            timeout=5,
        )
        pane_repair = time.monotonic() - killed
        time.sleep(1.5)  # the follow-up polls are over: only an event can prompt the next
        t.crash()
        crashed = time.monotonic()
        wait_until(lambda: t.cmd("list-panes", "-a", check=False).count("\n") == 2, timeout=8)
        wait_until(lambda: t.lines("#{pane_current_command}") == ["tail", "tail"], timeout=5)
        crash_repair = time.monotonic() - crashed
    finally:
        watcher.send_signal(signal.SIGTERM)
        _, err = watcher.communicate(timeout=15)
    assert pane_repair < 3.0, pane_repair
    assert crash_repair < 5.0, crash_repair
    assert "Traceback" not in err, err


def test_a_crash_is_not_kept_waiting_for_a_hook_line_no_one_writes(tmp_path: Path) -> None:
    """After a server's end the trace is waited for only while a hook writer still runs:
    a writer's late line is read; with no writer (a crash) there is no wait at all."""
    log = tmp_path / "closed-s-0123456789.log"
    trace = ClosedLog(log)
    writer = subprocess.Popen(
        ["sh", "-c", f"sleep 0.3; printf '1\\t$1\\tw\\n' >> {log}; : {log.name}"]
    )
    try:
        assert [e.name for e in trace.wait_for_late_lines(2.0)] == ["w"]
    finally:
        writer.wait()
    started = time.monotonic()
    assert trace.wait_for_late_lines(2.0) == []
    assert time.monotonic() - started < 0.5  # no writer: no two-second wait


def test_a_deliberate_kill_server_heard_at_once_is_still_no_crash(
    tmux_server: PrivateServer, tmp_path: Path
) -> None:
    """The watcher hears the server end at once, but its hook's lines come a moment
    later: it waits for them while their writers run, and rebuilds nothing."""
    t = tmux_server
    config = tmp_path / "events.toml"
    config.write_text("grace_period = 0\n")
    for name in ("a", "b", "c"):
        t.cmd("new-session", "-d", "-s", name)
    state = tmp_path / "state"
    watcher = _watch(t, state, config)
    try:
        wait_until(lambda: t.cmd("show-options", "-gwv", "remain-on-exit").strip() == "failed")
        wait_until(lambda: len(list((state / "checkpoints").rglob("*.json"))) >= 3, timeout=10)
        t.cmd("kill-server")
        time.sleep(3)
        assert t.cmd("list-sessions", check=False) == ""  # left stopped, as the person wished
    finally:
        watcher.send_signal(signal.SIGTERM)
        _, err = watcher.communicate(timeout=15)
    log = (state / "watch.log").read_text()
    assert "crashed" not in log and "rebuild" not in log, log
    assert "Traceback" not in err, err


async def test_between_full_reads_only_a_heartbeat_and_a_stopped_server_is_read_at_once(
    tmux_server: PrivateServer, state_dir: Path
) -> None:
    """With its ends heard, the watcher reads the whole server every third interval; the
    rounds between only ask its control client for a heartbeat. A heartbeat that finds
    the server stopped calls a full read at once (and the freeze is seen)."""
    import asyncio

    from config.settings import Settings
    from guardian.operations.engine import Engine
    from guardian.watch.guard import GuardOptions
    from guardian.watch.monitor import FULL_EVERY, Monitor
    from recovery.journal import Journal

    t = tmux_server
    t.cmd("new-session", "-d", "-s", "w")
    target = ServerTarget.at_path(str(t.socket))
    monitor = Monitor(Engine(Settings(), state_dir, (target,)), GuardOptions(), interval=0.1)
    guard = monitor.guards[0]
    reads: list[float] = []
    real_read = guard.adapter.read_server

    def counted(**kw: bool) -> object:
        reads.append(time.monotonic())
        return real_read(**kw)

    guard.adapter.read_server = counted  # type: ignore[method-assign]
    stop = asyncio.Event()
    running = asyncio.create_task(monitor.run(stop))
    try:
        await asyncio.sleep(1.5)  # past the first poll's follow-ups: quiet rounds
        rounds, reads_before = monitor.polls, len(reads)
        await asyncio.sleep(1.2)
        quiet_rounds, quiet_reads = monitor.polls - rounds, len(reads) - reads_before
        assert quiet_rounds >= 6
        assert quiet_reads <= quiet_rounds // FULL_EVERY + 1
        pid = t.pid()
        os.kill(pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(0.5)
        finally:
            os.kill(pid, signal.SIGCONT)  # (the watcher thaws it itself: never left stopped)
    finally:
        stop.set()
        await running
        monitor.release()
    frozen = [e for e in Journal(state_dir).read() if e.kind == "verdict" and e.health == "frozen"]
    assert [e.session for e in frozen] == ["w"]


def test_a_refused_control_client_is_not_asked_again_at_every_poll(
    tmux_server: PrivateServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where no control client may attach (here a person's hook; a tmux before 3.2 never
    can), polls read by hand without paying for the question again each time: asked
    again after 1 s, then 2, 4... up to a minute."""
    from guardian.tmux import adapter as adapter_module

    t = tmux_server
    t.cmd("new-session", "-d", "-s", "s")
    t.cmd("set-hook", "-g", "client-attached", "display-message hi")
    asked: list[float] = []
    real = adapter_module.control_session

    def counted(adapter: TmuxAdapter) -> str | None:
        asked.append(time.monotonic())
        return real(adapter)

    monkeypatch.setattr(adapter_module, "control_session", counted)
    adapter = _adapter(t)
    started = time.monotonic()
    while time.monotonic() - started < 3.5:
        assert [s.name for s in adapter.read_server().sessions] == ["s"]
        time.sleep(0.05)
    assert adapter.control_client_pid is None
    assert len(asked) == 3  # at 0, after 1 s, after 2 s more (the next would be at 7 s)


def test_a_deleted_socket_is_never_hidden_by_the_control_client(
    tmux_server: PrivateServer,
) -> None:
    """The control client still talks to a server whose socket file was deleted: no one
    else can reach it. A read then goes by hand and says the socket is gone (the
    classifier's "disconnected"), instead of reading on as if nothing were wrong."""
    from guardian.errors import ServerAbsentError

    t = tmux_server
    t.cmd("new-session", "-d", "-s", "s")
    adapter = _adapter(t)
    try:
        adapter.read_server()
        assert adapter.control_client_pid is not None
        t.socket.unlink()
        with pytest.raises(ServerAbsentError):
            adapter.read_server()
        assert adapter.control_client_pid is None
    finally:
        adapter.close_control_client()


def test_what_only_a_further_full_read_can_judge_is_never_left_to_a_heartbeat(
    tmux_server: PrivateServer, state_dir: Path
) -> None:
    """A pane's program seen stopped (not yet for freeze_grace): the next rounds read in
    full, not a heartbeat, until it is judged; then heartbeats again."""
    from config.settings import Settings
    from guardian.operations.engine import Engine
    from guardian.watch.guard import GuardOptions, ServerGuard

    t = tmux_server
    t.cmd("new-session", "-d", "-s", "w")
    t.cmd("send-keys", "-t", "w", "sleep 1000 | cat", "Enter")
    wait_until(lambda: any(p.name() == "sleep" for p in t.descendants()))
    target = ServerTarget.at_path(str(t.socket))
    engine = Engine(Settings(freeze_grace=60), state_dir, (target,))
    guard = ServerGuard(engine, target, GuardOptions(recover=False, prepare=False))
    guard.listen(lambda _reason: None)
    reads: list[int] = []
    real_read = guard.adapter.read_server
    guard.adapter.read_server = lambda **kw: reads.append(1) or real_read(**kw)  # type: ignore[method-assign]
    try:
        guard.poll()
        guard.look(full=False)
        assert len(reads) == 1  # all calm: a heartbeat only
        sleeper = next(p.pid for p in t.descendants() if p.name() == "sleep")
        os.kill(sleeper, signal.SIGSTOP)  # one stage of a pipeline, as chaos.py's job_stop
        guard.poll()
        assert guard.memory.pending
        guard.look(full=False)
        assert len(reads) == 3  # stopped, not yet judged: read in full
        os.kill(sleeper, signal.SIGCONT)
        guard.poll()
        guard.look(full=False)
        assert len(reads) == 4  # calm again: a heartbeat
    finally:
        guard.release()
