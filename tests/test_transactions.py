"""A restore that fails removes what it built, says why, and leaves the store as it was."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from recovery.canonical import sha256_hex
from tests.conftest import PrivateServer
from tests.test_round_trip import read

pytestmark = pytest.mark.tmux


def resign(path: Path, edit) -> None:  # type: ignore[no-untyped-def]
    """Edit a checkpoint AND fix its checksum: a file that verifies but tmux will reject
    (as one written by another tmux version might be)."""
    envelope = json.loads(path.read_bytes())
    edit(envelope["payload"])
    envelope["sha256"] = sha256_hex(envelope["payload"])
    path.write_text(json.dumps(envelope))


def _flip(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


def store_files(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*.json"))}


def test_failed_session_is_removed_and_others_restored(
    guardian, tmux_server: PrivateServer, hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    sock = str(t.socket)
    for name in ("alpha", "broken", "gamma"):
        t.cmd("new-session", "-d", "-s", name, "-x", "120", "-y", "40")
        t.cmd("new-window", "-t", name)
        t.cmd("split-window", "-t", f"{name}:1")
    assert guardian("-S", sock, "snapshot").code == 0
    path = Path(
        json.loads(guardian("checkpoints", "broken", "--json").out)["checkpoints"][0]["path"]
    )

    def no_room(payload: dict) -> None:  # type: ignore[type-arg]
        # A window of 1x1 has no room for a second pane: tmux refuses the split. (A layout
        # tmux would refuse never reaches it any more: it is replaced by tiled.)
        payload["session"]["windows"][0].update(width=1, height=1)

    resign(path, no_room)
    t.crash()
    before = store_files(hermetic_env / "state")

    result = guardian("-S", sock, "restore")
    assert result.code == 1
    assert "failed    broken" in result.err and "no space for new pane" in result.err
    assert "restored 2, skipped 0, failed 1" in result.out
    state = read(t)
    assert sorted(s.name for s in state.sessions) == ["alpha", "gamma"]  # nothing half-built
    for name in ("alpha", "gamma"):
        assert [len(w.panes) for w in state.session(name).windows] == [1, 2]  # type: ignore[union-attr]
    assert store_files(hermetic_env / "state") == before


def test_failure_in_the_first_phase_keeps_going(guardian, tmux_server: PrivateServer) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    sock = str(t.socket)
    for name in ("one", "two"):
        t.cmd("new-session", "-d", "-s", name)
    t.cmd("split-window", "-t", "one")
    assert guardian("-S", sock, "snapshot").code == 0
    path = Path(json.loads(guardian("checkpoints", "one", "--json").out)["checkpoints"][0]["path"])
    # 1x1: tmux makes the session, then refuses its second pane (sizes of 0 are now
    # replaced by a default before tmux sees them)
    resign(path, lambda p: p["session"]["windows"][0].update(width=1, height=1))
    t.crash()
    result = guardian("-S", sock, "restore")
    assert result.code == 1 and "failed    one" in result.err
    assert [s.name for s in read(t).sessions] == ["two"]


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda b: _flip(b, b.index(b'"payload"') + 60), "checksum mismatch"),
        (lambda b: b[: len(b) // 3], "not valid JSON"),
        (lambda b: b.replace(b'"sh"', b'"rm"') if b'"sh"' in b else b + b"x", ""),
        (lambda b: re.sub(rb'"schema_version":\d+', b'"schema_version":0', b), "schema version"),
        (lambda b: b"", "empty file"),
    ],
    ids=["flipped", "truncated", "edited", "schema", "empty"],
)
def test_verify_names_each_bad_file(
    guardian, tmux_server: PrivateServer, damage, reason: str
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "v")
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    t.cmd("rename-window", "-t", "v:0", "second")
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    newest = json.loads(guardian("checkpoints", "--json").out)["checkpoints"][0]
    path = Path(newest["path"])
    path.write_bytes(damage(path.read_bytes()))
    result = guardian("verify", "--json")
    assert result.code == 1
    report = json.loads(result.out)
    assert (report["checked"], report["ok"]) == (2, 1)
    (bad,) = report["bad"]
    assert bad["path"] == str(path) and reason in bad["reason"]
    assert Path(bad["moved_to"]).is_file() and not path.exists()
    assert guardian("verify").code == 0  # the bad file is out of the way; the good one stays


def test_snapshot_of_a_live_but_empty_server_writes_nothing(
    guardian, tmux_server: PrivateServer, hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "only")
    t.cmd("set-option", "-g", "exit-empty", "off")
    t.cmd("kill-session", "-t", "only")
    assert t.cmd("list-sessions", check=False) == ""
    result = guardian("-S", str(t.socket), "snapshot")
    assert result.code == 1 and "no sessions; nothing saved" in result.err
    assert not list((hermetic_env / "state").rglob("*.json"))
