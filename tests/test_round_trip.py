"""Snapshot, kill the server, restore: the same sessions come back, exactly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from guardian.tmux.adapter import TmuxAdapter
from guardian.tmux.targets import ServerTarget
from recovery.models import ServerState, SessionState
from tests.conftest import PrivateServer, wait_until

pytestmark = pytest.mark.tmux

HAVE_VIM = shutil.which("vim") is not None


def read(server: PrivateServer) -> ServerState:
    return TmuxAdapter(ServerTarget.at_path(str(server.socket))).read_server()


def shape(session: SessionState) -> list[tuple[object, ...]]:
    """Everything a person would notice, without live ids and pids."""
    rows: list[tuple[object, ...]] = []
    for w in session.windows:
        rows.append(("window", w.index, w.name, w.width, w.height, w.active, w.zoomed))
        for p in w.panes:
            rows.append(("pane", w.index, p.index, p.geometry, p.cwd, p.active, p.title))
    return rows


def settled(server: PrivateServer, name: str) -> SessionState:
    """The session once tmux's automatic window names have settled: a window reads `tmux`
    until its pane's shell has started."""
    wait_until(lambda: all(w.name != "tmux" for w in read(server).session(name).windows))  # type: ignore[union-attr]
    session = read(server).session(name)
    assert session is not None
    return session


def programs(session: SessionState) -> dict[tuple[int, int], tuple[bool, tuple[str, ...] | None]]:
    return {
        (w.index, p.index): (p.is_shell, p.program.argv if p.program else None)
        for w in session.windows
        for p in w.panes
    }


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    made = {
        "quotes": tmp_path / "dir with 'single' \"double\" ; semi #(x) $(y)",
        "unicode": tmp_path / "répertoire ✓ 日本",
        "plain": tmp_path / "plain",
    }
    for path in made.values():
        path.mkdir()
    (made["quotes"] / "file with spaces.txt").write_text("line one\n")
    (made["plain"] / "log.txt").write_text("log\n")
    return made


def build_sessions(t: PrivateServer, dirs: dict[str, Path]) -> None:
    quotes, uni, plain = str(dirs["quotes"]), str(dirs["unicode"]), str(dirs["plain"])
    s = "work é ✓ x"
    t.cmd("new-session", "-d", "-s", s, "-x", "160", "-y", "48", "-n", "editor ✓", "-c", quotes)
    t.cmd("split-window", "-h", "-t", f"{s}:0", "-c", uni)
    t.cmd("split-window", "-v", "-t", f"{s}:0", "-c", plain, "tail", "-f", f"{plain}/log.txt")
    t.cmd("select-layout", "-t", f"{s}:0", "main-vertical")
    t.cmd("resize-pane", "-t", f"{s}:0.0", "-R", "7")
    t.cmd("select-pane", "-t", f"{s}:0.1")
    t.cmd("select-pane", "-t", f"{s}:0.1", "-T", "notes #1 ✓")
    # window 3 (an index gap): tiled, then a custom nudge, one pane zoomed
    t.cmd("new-window", "-d", "-t", f"{s}:3", "-n", "logs", "-c", plain)
    for _ in range(3):
        t.cmd("split-window", "-t", f"{s}:3", "-c", uni)
        t.cmd("select-layout", "-t", f"{s}:3", "tiled")
    t.cmd("resize-pane", "-t", f"{s}:3.2", "-U", "4")
    t.cmd("select-pane", "-t", f"{s}:3.2")
    t.cmd("resize-pane", "-Z", "-t", f"{s}:3.2")
    t.cmd("select-window", "-t", f"{s}:3")
    # a second session on the same server, different size
    t.cmd("new-session", "-d", "-s", "other", "-x", "90", "-y", "30", "-n", "main", "-c", plain)
    t.cmd("split-window", "-h", "-t", "other:0", "-c", plain)
    t.cmd("select-pane", "-t", "other:0.0")
    # programs started from the shell
    if HAVE_VIM:
        t.cmd("send-keys", "-t", f"{s}:0.0", "vim -n 'file with spaces.txt'", "Enter")
    else:
        t.cmd("send-keys", "-t", f"{s}:0.0", "less 'file with spaces.txt'", "Enter")
    t.cmd("send-keys", "-t", f"{s}:0.1", f"less -S '{plain}/log.txt'", "Enter")
    t.cmd("send-keys", "-t", f"{s}:3.1", "sleep 1000", "Enter")  # not allowlisted


def test_round_trip_is_exact(guardian, tmux_server: PrivateServer, dirs: dict[str, Path]) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    build_sessions(t, dirs)
    s = "work é ✓ x"
    first_program = (
        ("vim", "-n", "file with spaces.txt") if HAVE_VIM else ("less", "file with spaces.txt")
    )

    def programs_running() -> bool:
        found = programs(read(t).session(s))  # type: ignore[arg-type]
        return found[(0, 0)][1] == first_program and found[(3, 1)][1] == ("sleep", "1000")

    wait_until(programs_running)
    before = read(t)
    progs = programs(before.session(s))  # type: ignore[arg-type]
    assert progs[(0, 1)] == (True, ("less", "-S", f"{dirs['plain']}/log.txt"))
    assert progs[(0, 2)] == (False, ("tail", "-f", f"{dirs['plain']}/log.txt"))

    sock = str(t.socket)
    result = guardian("-S", sock, "snapshot")
    assert result.code == 0, result.err
    t.crash()  # at real timing: the programs are still dying (zombies held 2 s)

    result = guardian("-S", sock, "restore")
    assert result.code == 0, result
    assert "restored 2, skipped 0, failed 0" in result.out
    assert "warning" not in result.out

    after = read(t)
    assert sorted(x.name for x in after.sessions) == sorted(x.name for x in before.sessions)
    for name in (s, "other"):
        assert shape(after.session(name)) == shape(before.session(name)), name  # type: ignore[arg-type]

    def restarted() -> bool:
        got = programs(read(t).session(s))  # type: ignore[arg-type]
        return got[(0, 0)] == (True, first_program) and got[(0, 1)] == progs[(0, 1)]

    wait_until(restarted)
    got = programs(read(t).session(s))  # type: ignore[arg-type]
    assert got[(0, 2)] == (False, ("tail", "-f", f"{dirs['plain']}/log.txt"))  # own command
    assert got[(3, 1)] == (True, None)  # `sleep 1000` not run again...
    assert "sleep 1000" in t.cmd("capture-pane", "-p", "-t", f"{s}:3.1")  # ...but typed

    # quitting a program started from a shell leaves that shell, as before
    t.cmd("send-keys", "-t", f"{s}:0.1", "q")
    wait_until(lambda: programs(read(t).session(s))[(0, 1)] == (True, None))  # type: ignore[arg-type]

    # resize-window's `window-size manual` was not left behind
    for line in t.lines("#{window_id}"):
        assert t.cmd("show-options", "-w", "-t", line, "window-size").strip() == ""


def test_restore_without_a_client_keeps_active_pane_in_every_window(
    guardian, tmux_server: PrivateServer
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "act", "-x", "120", "-y", "40")
    expected = {}
    for window in range(6):
        if window:
            t.cmd("new-window", "-d", "-t", f"act:{window}")
        for _ in range(3):
            t.cmd("split-window", "-t", f"act:{window}")
        t.cmd("select-pane", "-t", f"act:{window}.{window % 4}")
        expected[window] = window % 4
    t.cmd("select-window", "-t", "act:4")
    sock = str(t.socket)
    assert guardian("-S", sock, "snapshot").code == 0
    t.crash()
    assert guardian("-S", sock, "restore").code == 0
    session = read(t).session("act")
    assert session is not None and session.attached == 0
    assert {w.index: w.active_pane.index for w in session.windows} == expected  # type: ignore[union-attr]
    assert session.active_window.index == 4  # type: ignore[union-attr]


def test_many_panes_in_a_small_window(guardian, tmux_server: PrivateServer) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "dense", "-x", "80", "-y", "24")
    for _ in range(11):
        t.cmd("split-window", "-t", "dense:0")
        t.cmd("select-layout", "-t", "dense:0", "tiled")
    t.cmd("select-layout", "-t", "dense:0", "even-vertical")
    before = settled(t, "dense")
    sock = str(t.socket)
    assert guardian("-S", sock, "snapshot").code == 0
    t.crash()
    result = guardian("-S", sock, "restore")
    assert result.code == 0, result
    assert shape(settled(t, "dense")) == shape(before)


def test_round_trip_with_a_persons_base_index_1_config(
    guardian, tmux_server: PrivateServer, hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    """Restore starts servers with the person's own tmux.conf; indexes must still match."""
    (hermetic_env / "home" / ".tmux.conf").write_text(
        "set -g base-index 1\nsetw -g pane-base-index 1\nset -g renumber-windows on\n"
    )
    t = tmux_server
    sock = str(t.socket)
    import subprocess as sp

    sp.run(["tmux", "-S", sock, "new-session", "-d", "-s", "one", "-x", "120", "-y", "40"],
           check=True)  # fmt: skip
    t.cmd("split-window", "-h", "-t", "one")
    t.cmd("new-window", "-t", "one")
    t.cmd("new-window", "-t", "one:7")
    t.cmd("split-window", "-t", "one:7")
    t.cmd("select-pane", "-t", "one:7.1")
    t.cmd("select-window", "-t", "one:2")
    before = settled(t, "one")
    assert [w.index for w in before.windows] == [1, 2, 7]  # type: ignore[union-attr]
    assert guardian("-S", sock, "snapshot").code == 0
    t.crash()
    result = guardian("-S", sock, "restore")
    assert result.code == 0 and "warning" not in result.out, result
    assert shape(settled(t, "one")) == shape(before)
