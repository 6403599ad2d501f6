"""Session groups (`new-session -t`) on real private servers: read, snapshot, crash (kill -9
of the server's pid), restore by a person and by the watcher, a tmux-resurrect file made by
its own save.sh. A group comes back as ONE group (the same windows, by id), each member
with its own active window; a member restored alone is built in full."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from guardian.tmux.adapter import TmuxAdapter
from guardian.tmux.targets import ServerTarget
from tests.conftest import PrivateServer, Result, wait_until
from tests.test_resurrect_files import fixture
from tests.test_watcher import FAST, engine_for

pytestmark = pytest.mark.tmux

Guardian = Callable[..., Result]


def grouped_pair(t: PrivateServer, cwd: Path) -> None:
    """`work`: windows 0, 1 (two panes), 2, window 2 active; `view` in its group, with
    window 0 active."""
    t.cmd("new-session", "-d", "-s", "work", "-x", "120", "-y", "40", "-c", str(cwd))
    t.cmd("new-window", "-t", "=work:1", "-n", "logs", "-c", str(cwd))
    t.cmd("split-window", "-t", "=work:1", "-c", str(cwd))
    t.cmd("new-window", "-t", "=work:2", "-n", "edit", "-c", str(cwd))
    t.cmd("new-session", "-d", "-t", "=work", "-s", "view")
    t.cmd("select-window", "-t", "=view:0")
    t.cmd("select-window", "-t", "=work:2")


def sessions(t: PrivateServer) -> dict[str, dict[str, str]]:
    """Name -> its group, group list, active window index and window ids."""
    found: dict[str, dict[str, str]] = {}
    fmt = "#{session_name}\t#{session_group}\t#{session_group_list}\t#{window_index}"
    windows = t.cmd("list-windows", "-a", "-F", "#{session_name}\t#{window_id}").splitlines()
    for line in t.cmd("list-sessions", "-F", fmt).splitlines():
        name, group, members, active = line.split("\t")
        ids = [w.split("\t")[1] for w in windows if w.split("\t")[0] == name]
        found[name] = {"group": group, "list": members, "active": active, "ids": " ".join(ids)}
    return found


def assert_one_group(t: PrivateServer, first: str, member: str, active: dict[str, str]) -> None:
    found = sessions(t)
    assert found[first]["group"] and found[first]["group"] == found[member]["group"], found
    assert sorted(found[first]["list"].split(",")) == sorted([first, member]), found
    assert found[first]["ids"] == found[member]["ids"], found  # the same windows, not copies
    assert {name: found[name]["active"] for name in active} == active, found


def saved_then_crashed(t: PrivateServer, guardian: Guardian, cwd: Path) -> None:
    """The grouped pair, snapshotted, then its server killed -9."""
    grouped_pair(t, cwd)
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    crash(t)


def panes_per_window(t: PrivateServer) -> list[str]:
    return t.cmd("list-windows", "-a", "-F", "#{window_panes}").split()


def crash(t: PrivateServer) -> None:
    """kill -9 of the server's own pid, as recorded before."""
    pid = t.pid()
    os.kill(pid, 9)
    wait_until(lambda: not t.pane_pids())


def test_a_read_of_a_grouped_pair_has_both_sessions_each_with_its_own_active_window(
    tmux_server: PrivateServer, tmp_path: Path
) -> None:
    grouped_pair(tmux_server, tmp_path)
    state = TmuxAdapter(ServerTarget.at_path(str(tmux_server.socket))).read_server()
    work, view = state.session("work"), state.session("view")
    assert work is not None and view is not None
    assert (work.group, view.group) == ("work", "work")
    assert [len(w.panes) for w in work.windows] == [1, 2, 1]
    assert [len(w.panes) for w in view.windows] == [1, 2, 1]
    assert [w.window_id for w in work.windows] == [w.window_id for w in view.windows]
    assert (work.active_window, view.active_window) != (None, None)
    assert work.active_window and work.active_window.index == 2
    assert view.active_window and view.active_window.index == 0


def test_a_grouped_pair_comes_back_as_one_group_after_a_crash(
    guardian: Guardian, tmux_server: PrivateServer, tmp_path: Path
) -> None:
    t, sock = tmux_server, str(tmux_server.socket)
    saved_then_crashed(t, guardian, tmp_path)
    dry = guardian("-S", sock, "restore", "--dry-run")
    assert dry.code == 0, dry
    assert "session 'view' from checkpoint" in dry.out
    assert "joins group of 'work' (shares its windows), window 0 active" in dry.out
    result = guardian("-S", sock, "restore")
    assert result.code == 0, result
    assert_one_group(t, "work", "view", {"work": "2", "view": "0"})
    assert sessions(t)["work"]["group"] == "work"  # named after its first member
    assert panes_per_window(t) == ["1", "2", "1", "1", "2", "1"]  # listed once per member


def test_the_watcher_rebuilds_a_crashed_group_as_one_group(
    tmux_server: PrivateServer, tmp_path: Path, hermetic_env: Path
) -> None:
    from guardian.watch.guard import GuardOptions, ServerGuard

    t = tmux_server
    grouped_pair(t, tmp_path)
    engine = engine_for(t, hermetic_env / "state", FAST)
    guard = ServerGuard(engine, engine.servers[0], GuardOptions())
    guard.poll()  # checkpoints both (checkpoint_interval 0)
    crash(t)
    deadline = time.monotonic() + 10
    while set(sessions(t) if t.pane_pids() else ()) != {"work", "view"}:
        guard.poll()
        assert time.monotonic() < deadline, "not rebuilt"
    assert_one_group(t, "work", "view", {"work": "2", "view": "0"})


def test_a_member_restored_alone_is_built_in_full(
    guardian: Guardian, tmux_server: PrivateServer, tmp_path: Path
) -> None:
    t, sock = tmux_server, str(tmux_server.socket)
    saved_then_crashed(t, guardian, tmp_path)
    result = guardian("-S", sock, "restore", "view")
    assert result.code == 0, result
    found = sessions(t)
    assert set(found) == {"view"}
    assert found["view"]["group"] == "" and found["view"]["active"] == "0"
    assert panes_per_window(t) == ["1", "2", "1"]


def test_the_first_member_restored_alone_is_joined_by_the_next_one_restored(
    guardian: Guardian, tmux_server: PrivateServer, tmp_path: Path
) -> None:
    """Built alone, `work` is in no group (tmux makes a group when a second session joins
    a first); named after the group, it is the peer `view` joins later."""
    t, sock = tmux_server, str(tmux_server.socket)
    saved_then_crashed(t, guardian, tmp_path)
    assert guardian("-S", sock, "restore", "work").code == 0
    assert sessions(t)["work"]["group"] == ""
    result = guardian("-S", sock, "restore", "view")
    assert result.code == 0, result
    assert "joined the group of 'work' (shares its windows)" in result.out
    assert_one_group(t, "work", "view", {"work": "2", "view": "0"})


def test_a_member_whose_peer_lives_joins_it_instead_of_copying(
    guardian: Guardian, tmux_server: PrivateServer, tmp_path: Path
) -> None:
    """kill-session of one member leaves the windows in the other: it joins that one."""
    t, sock = tmux_server, str(tmux_server.socket)
    grouped_pair(t, tmp_path)
    assert guardian("-S", sock, "snapshot").code == 0
    t.cmd("kill-session", "-t", "=view")
    before = sessions(t)["work"]["ids"]
    result = guardian("-S", sock, "restore", "view")
    assert result.code == 0, result
    assert_one_group(t, "work", "view", {"work": "2", "view": "0"})
    assert sessions(t)["work"]["ids"] == before


def test_a_resurrect_grouped_session_made_by_its_save_sh_restores_grouped(
    guardian: Guardian, tmux_server: PrivateServer, hermetic_env: Path
) -> None:
    text, expected = fixture("v4.0.0")
    assert "grouped_session\twork-view\twork\t" in text
    root = Path(os.path.realpath(hermetic_env)) / "root"
    for pane in expected["panes"]:
        Path(pane["current_path"].replace(expected["root"], str(root))).mkdir(
            parents=True, exist_ok=True
        )
    save = hermetic_env / "last"
    save.write_text(text.replace(expected["root"], str(root)))
    sock = str(tmux_server.socket)
    assert guardian("-S", sock, "import", "resurrect", str(save)).code == 0
    result = guardian("-S", sock, "restore", "work", "work-view")
    assert result.code == 0, result
    saved = {s["name"]: s for s in expected["sessions"]}
    assert saved["work-view"]["group"] == "work"
    active = {
        w["session"]: str(w["index"])
        for w in expected["windows"]
        if w["active"] and w["session"] in ("work", "work-view")
    }
    assert active == {"work": "1", "work-view": "0"}
    assert_one_group(tmux_server, "work", "work-view", active)


def test_a_killed_program_in_a_shared_window_is_respawned_once(
    tmux_server: PrivateServer, tmp_path: Path, hermetic_env: Path
) -> None:
    """Both sessions of a group see the same dead pane; a second `respawn-pane -k` would
    kill the program the first one started (an agent resumed twice)."""
    from tests.test_watcher import all_healthy, guard_for, journal, poll_until

    t = tmux_server
    (tmp_path / "app.log").write_text("x\n")
    t.cmd("new-session", "-d", "-s", "work", "-x", "100", "-y", "30", "-c", str(tmp_path))
    t.cmd("split-window", "-t", "=work:", "-c", str(tmp_path), "tail", "-f", "app.log")
    t.cmd("new-session", "-d", "-t", "=work", "-s", "view")
    state_dir = hermetic_env / "state"
    guard = guard_for(t, state_dir)
    poll_until(guard, lambda v: all_healthy(v) and len(v) == 2)
    pane = t.cmd("display-message", "-p", "-t", "=work:0.1", "#{pane_id} #{pane_pid}").split()
    os.kill(int(pane[1]), 9)
    wait_until(lambda: t.cmd("display-message", "-p", "-t", pane[0], "#{pane_dead}") == "1\n")
    poll_until(guard, lambda v: all_healthy(v) and t.lines("#{pane_dead}") == ["0", "0"] * 2)
    records = journal(state_dir)
    respawns = [r for r in records if f"respawn pane {pane[0]}" in (r.get("action") or "")]
    assert len(respawns) == 1, records
    other = "view" if respawns[0]["session"] == "work" else "work"
    notes = [r for r in records if r["session"] == other and r["kind"] == "note"]
    assert any(f"repaired with '{respawns[0]['session']}'" in r["outcome"] for r in notes), records


def test_a_member_whose_groups_session_fails_to_build_is_built_in_full(
    guardian: Guardian,
    tmux_server: PrivateServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A build failing is hard to cause for real at the right moment: the executor fails
    `work` (a mock of that failure only); `view`, which would join it, is built in full."""
    from guardian.operations import restore as restore_module
    from guardian.tmux.executor import PlanExecutor, SessionOutcome

    real = PlanExecutor.execute

    def failing_work(self: PlanExecutor, plans: list) -> list:  # type: ignore[type-arg]
        kept = [p for p in plans if p.name != "work"]
        done = {o.name: o for o in real(self, kept)}
        failed = SessionOutcome("work", "x", False, error="a build that failed")
        return [done.get(p.name, failed) for p in plans]

    monkeypatch.setattr(restore_module.PlanExecutor, "execute", failing_work)
    t, sock = tmux_server, str(tmux_server.socket)
    saved_then_crashed(t, guardian, tmp_path)
    result = guardian("-S", sock, "restore", "work", "view")
    assert result.code == 1, result  # work failed, and says so
    assert "failed    work  a build that failed" in result.err
    assert "restored  view" in result.out, result
    assert "its group's session 'work' could not be built: built in full" in result.out
    found = sessions(t)
    assert set(found) == {"view"} and found["view"]["active"] == "0"
    assert panes_per_window(t) == ["1", "2", "1"]
