"""The command-line contract: exit codes, one-line errors, --json shapes, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PrivateServer


@pytest.mark.parametrize(
    "args",
    [
        ["frobnicate"],
        ["snapshot", "--bogus"],
        ["restore", "--checkpoint"],
        ["restore", "a", "b", "--as", "c"],
        ["restore", "--as", "x:y", "a"],
        ["restore", "--checkpoint", "not-an-id"],
        ["restore", "a", "--checkpoint", "20261123T000000.000000Z-abcd"],
    ],
)
def test_usage_errors_exit_2(guardian, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = guardian(*args)
    assert result.code == 2, result
    assert "Traceback" not in result.err and result.err.strip()


def test_nothing_to_restore_exits_0(guardian, tmux_server: PrivateServer) -> None:  # type: ignore[no-untyped-def]
    result = guardian("-S", str(tmux_server.socket), "restore")
    assert result.code == 0
    assert "nothing to restore" in result.out


def test_unknown_checkpoint_id(guardian) -> None:  # type: ignore[no-untyped-def]
    result = guardian("restore", "--checkpoint", "20261123T000000.000000Z-abcd")
    assert result.code == 2 and "no checkpoint with id" in result.err


def test_snapshot_of_absent_server_writes_nothing(
    guardian, tmux_server: PrivateServer, hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    result = guardian("-S", str(tmux_server.socket), "snapshot")
    assert result.code == 1
    assert "nothing saved" in result.err and "no tmux server" in result.err
    assert not list((hermetic_env / "state").rglob("*.json"))


def test_snapshot_of_server_killed_with_socket_left_writes_nothing(
    guardian, tmux_server: PrivateServer, hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    tmux_server.cmd("new-session", "-d", "-s", "a")
    tmux_server.crash()
    assert tmux_server.socket.exists()  # a crash leaves the socket behind
    result = guardian("-S", str(tmux_server.socket), "snapshot")
    assert result.code == 1 and "no tmux server running" in result.err
    assert not list((hermetic_env / "state").rglob("*.json"))


def test_missing_tmux_binary_is_one_clear_line(
    guardian, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PATH", str(tmp_path))  # no tmux anywhere
    result = guardian("-S", str(tmp_path / "s"), "snapshot")
    assert result.code == 1
    assert "tmux is not installed" in result.err and "Traceback" not in result.err


def test_status_and_checkpoints_json_shapes(guardian, tmux_server: PrivateServer) -> None:  # type: ignore[no-untyped-def]
    tmux_server.cmd("new-session", "-d", "-s", "one", "-x", "100", "-y", "30")
    tmux_server.cmd("split-window", "-t", "one")
    sock = str(tmux_server.socket)
    status = json.loads(guardian("-S", sock, "status", "--json").out)
    (row,) = status["sessions"]
    assert set(row) >= {
        "server",
        "name",
        "health",
        "attached",
        "windows",
        "panes",
        "last_checkpoint",
    }
    assert (row["name"], row["health"], row["attached"], row["windows"], row["panes"]) == (
        "one",
        "healthy",
        False,
        1,
        2,
    )
    assert row["last_checkpoint"] is None
    assert guardian("-S", sock, "snapshot").code == 0
    listed = json.loads(guardian("-S", sock, "checkpoints", "--json").out)
    (cp,) = listed["checkpoints"]
    assert set(cp) >= {"id", "session", "created_at", "verified", "path"}
    assert cp["session"] == "one" and cp["verified"] is True and Path(cp["path"]).is_file()
    status = json.loads(guardian("-S", sock, "status", "--json").out)
    assert status["sessions"][0]["last_checkpoint"] == cp["id"]


def test_core_never_imports_textual() -> None:
    code = (
        "import sys, guardian.cli, guardian.cli.snapshot, guardian.operations.restore, "
        "guardian.operations.snapshot, guardian.tmux.executor, recovery.store, recovery.plan, "
        "config\n"
        "assert 'textual' not in sys.modules, 'textual loaded'\n"
        "assert 'tui' not in sys.modules, 'tui loaded'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)


def test_console_script_exit_code_and_help() -> None:
    env = {**os.environ}
    done = subprocess.run(
        [sys.executable, "-m", "guardian.cli", "--help"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0
    for command in ("snapshot", "restore", "checkpoints", "verify", "status"):
        assert command in done.stdout


def test_watch_without_tmux_stops_with_one_line(
    guardian, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PATH", str(tmp_path))  # no tmux anywhere
    result = guardian("-S", str(tmp_path / "s"), "watch", "--interval", "0.1", "--quiet")
    assert result.code == 1
    assert result.err.strip().endswith(
        "tmux is not installed: no 'tmux' on PATH "
        "(install it with your package manager, e.g. "
        "apt-get install tmux)"
    )
    assert "Traceback" not in result.err


def test_version_alone_is_answered_before_the_rest_loads() -> None:
    """`run.sh --version` and scripts ask it often: it must not pay for pydantic and the
    config models (a third of a second); and it says what the full parser says."""
    import subprocess
    import sys

    probe = (
        "import sys; from guardian.cli import main; code = main(['--version']); "
        "print('loaded' if 'pydantic' in sys.modules or 'config' in sys.modules else 'light', code)"
    )
    quick = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    first, verdict = quick.stdout.splitlines()
    assert verdict == "light 0", quick.stderr
    full = subprocess.run(
        [sys.executable, "-m", "guardian.cli", "-L", "x", "--version"],
        capture_output=True,
        text=True,
    )
    assert full.stdout.strip() == first and first.startswith("tmux-guardian ")
