"""Restore never runs what it should not and never touches what it does not restore."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from guardian.tmux.names import vis_session_name
from recovery.canonical import sha256_hex
from recovery.checkpoint import SCHEMA_VERSION
from tests.conftest import PrivateServer, wait_until
from tests.test_round_trip import read, shape

pytestmark = pytest.mark.tmux

HOSTILE = [
    "x $(touch {m}/s1) `touch {m}/s2`",
    "q'uo\"te #(touch {m}/s3) #{{pane_id}}",
    "semi; touch {m}/s4;",
    "back\\slash\\; é 日本 ✓",
    "-dash --help",
]


def test_hostile_names_and_paths_round_trip_and_nothing_executes(
    guardian, tmux_server: PrivateServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    marks = tmp_path / "marks"
    marks.mkdir()
    t = tmux_server
    names = [n.format(m=marks) for n in HOSTILE]
    directory = tmp_path / "d;'\"$(touch s5) #(touch s6) `x` ;"
    directory.mkdir()
    for name in names:
        # tmux itself expands formats in -s/-n/-c/-T, so the test escapes them the same way
        lit, cwd = name.replace("#", "##"), str(directory).replace("#", "##")
        sid = t.cmd("new-session", "-d", "-P", "-F", "#{session_id}", "-s", lit, "-n", lit,
                    "-c", cwd).strip()  # fmt: skip
        t.cmd("select-pane", "-t", sid, "-T", lit)
        t.cmd("split-window", "-t", sid, "-c", cwd)
    before = read(t)
    assert sorted(s.name for s in before.sessions) == sorted(vis_session_name(n) for n in names)
    sock = str(t.socket)
    assert guardian("-S", sock, "snapshot").code == 0
    t.crash()
    result = guardian("-S", sock, "restore")
    assert result.code == 0, result
    after = read(t)
    for name in map(vis_session_name, names):
        assert shape(after.session(name)) == shape(before.session(name))  # type: ignore[arg-type]
        pane = after.session(name).windows[0].panes[0]  # type: ignore[union-attr]
        assert pane.cwd == str(directory)
    assert list(marks.iterdir()) == []
    assert not list(Path.cwd().glob("s[0-9]"))


def _tamper(path: Path, payload_edit) -> None:  # type: ignore[no-untyped-def]
    envelope = json.loads(path.read_bytes())
    payload_edit(envelope["payload"])
    path.write_text(json.dumps(envelope))  # checksum NOT updated: an attacker's edit


def test_tampered_checkpoint_is_refused_and_older_one_used(
    guardian, tmux_server: PrivateServer, tmp_path: Path, hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    sock = str(t.socket)
    t.cmd("new-session", "-d", "-s", "work", "-x", "100", "-y", "30")
    assert guardian("-S", sock, "snapshot").code == 0
    t.cmd("split-window", "-t", "work")
    t.cmd("send-keys", "-t", "work:0.1", "tail -f /dev/null", "Enter")
    wait_until(lambda: read(t).session("work").windows[0].panes[1].program is not None)  # type: ignore[union-attr]
    assert guardian("-S", sock, "snapshot").code == 0
    listed = json.loads(guardian("-S", sock, "checkpoints", "--json").out)["checkpoints"]
    newest, older = listed[0], listed[1]
    assert newest["verified"] and older["verified"]

    pwned = tmp_path / "pwned"

    def inject(payload: dict) -> None:  # type: ignore[type-arg]
        pane = payload["session"]["windows"][0]["panes"][1]
        pane["program"]["argv"] = ["tail", "-f", "/dev/null", f"$(touch {pwned})"]
        pane["is_shell"] = False
        pane["program"]["argv"] = ["vim", f"+!touch {pwned}"]

    _tamper(Path(newest["path"]), inject)

    verify = guardian("-S", sock, "verify")
    assert verify.code == 1
    assert newest["path"] in verify.err and "checksum mismatch" in verify.err
    assert "2 checked, 1 ok, 1 bad" in verify.out
    quarantined = list((hermetic_env / "state" / "quarantine").rglob("*.json"))
    assert [q.name for q in quarantined] == [Path(newest["path"]).name]

    t.crash()
    result = guardian("-S", sock, "restore")
    assert result.code == 0, result
    assert older["id"] in result.out
    session = read(t).session("work")
    assert session is not None and session.pane_count == 1  # the older, one-pane checkpoint
    assert not pwned.exists()


def test_restore_falls_back_past_each_kind_of_bad_file(
    guardian, tmux_server: PrivateServer
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    sock = str(t.socket)
    t.cmd("new-session", "-d", "-s", "work", "-x", "100", "-y", "30")
    assert guardian("-S", sock, "snapshot").code == 0
    good = json.loads(guardian("-S", sock, "checkpoints", "--json").out)["checkpoints"][0]
    damages = {
        "flipped": lambda b: b[:300] + bytes([b[300] ^ 0x04]) + b[301:],
        "truncated": lambda b: b[: len(b) // 2],
        "empty": lambda b: b"",
        "schema": lambda b: re.sub(rb'"schema_version":\d+', b'"schema_version":99', b),
    }
    for kind in damages:
        t.cmd("rename-window", "-t", "work:0", kind)  # a structural change: a new checkpoint
        assert guardian("-S", sock, "snapshot").code == 0, kind
    newest = json.loads(guardian("-S", sock, "checkpoints", "--json").out)["checkpoints"][:4]
    for item, damage in zip(newest, damages.values(), strict=True):
        path = Path(item["path"])
        path.write_bytes(damage(path.read_bytes()))
    t.crash()
    result = guardian("-S", sock, "restore")
    assert result.code == 0, result
    # three damaged files are refused; one of a newer schema is skipped, not called damaged
    assert result.err.count("refused") == 3 and result.err.count("newer") == 1
    assert good["id"] in result.out
    assert read(t).session("work").windows[0].name not in damages  # type: ignore[union-attr]


def test_named_checkpoint_that_does_not_verify_exits_1_without_fallback(
    guardian, tmux_server: PrivateServer
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    sock = str(t.socket)
    t.cmd("new-session", "-d", "-s", "work")
    assert guardian("-S", sock, "snapshot").code == 0
    t.cmd("split-window", "-t", "work")
    assert guardian("-S", sock, "snapshot").code == 0
    newest = json.loads(guardian("-S", sock, "checkpoints", "--json").out)["checkpoints"][0]
    Path(newest["path"]).write_bytes(b"{}")
    t.crash()
    result = guardian("-S", sock, "restore", "--checkpoint", newest["id"])
    assert result.code == 1
    assert "does not verify" in result.err
    assert t.cmd("list-sessions", check=False) == ""  # nothing was restored


def test_resigned_checkpoint_with_wrong_schema_is_refused(
    guardian, tmux_server: PrivateServer
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    sock = str(t.socket)
    t.cmd("new-session", "-d", "-s", "work")
    assert guardian("-S", sock, "snapshot").code == 0
    path = Path(json.loads(guardian("checkpoints", "--json").out)["checkpoints"][0]["path"])
    envelope = json.loads(path.read_bytes())
    newer = SCHEMA_VERSION + 1
    envelope["payload"]["schema_version"] = envelope["schema_version"] = newer
    envelope["sha256"] = sha256_hex(envelope["payload"])
    path.write_text(json.dumps(envelope))
    result = guardian("verify")
    assert result.code == 1 and f"schema {newer}" in result.err


def test_existing_sessions_are_skipped_and_never_touched(
    guardian, tmux_server: PrivateServer
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    sock = str(t.socket)
    t.cmd("new-session", "-d", "-s", "keep")
    t.cmd("new-session", "-d", "-s", "gone")
    t.cmd("split-window", "-t", "gone")
    assert guardian("-S", sock, "snapshot").code == 0
    t.cmd("kill-session", "-t", "gone")
    keep_pids = t.lines("#{session_name} #{pane_pid}")
    options = t.cmd("show-options", "-g"), t.cmd("show-options", "-gw"), t.cmd("show-hooks", "-g")

    result = guardian("-S", sock, "restore")
    assert result.code == 0
    assert "skipped   keep" in result.out and "restored  gone" in result.out
    assert [x for x in t.lines("#{session_name} #{pane_pid}") if x.startswith("keep")] == keep_pids
    after = t.cmd("show-options", "-g"), t.cmd("show-options", "-gw"), t.cmd("show-hooks", "-g")
    assert after == options  # restore changes no server options or hooks

    result = guardian("-S", sock, "restore", "keep", "--as", "keep-copy")
    assert result.code == 0, result
    assert read(t).session("keep-copy") is not None
    assert [x for x in t.lines("#{session_name} #{pane_pid}") if x.startswith("keep ")] == keep_pids


def test_replace_swaps_only_that_session(guardian, tmux_server: PrivateServer) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    sock = str(t.socket)
    t.cmd("new-session", "-d", "-s", "a", "-x", "100", "-y", "30")
    t.cmd("split-window", "-h", "-t", "a")
    t.cmd("new-session", "-d", "-s", "b")
    assert guardian("-S", sock, "snapshot").code == 0
    t.cmd("kill-pane", "-t", "a:0.1")
    b_before = t.lines("#{session_name} #{pane_pid}")[-1]
    result = guardian("-S", sock, "restore", "a", "--replace")
    assert result.code == 0, result
    state = read(t)
    assert sorted(s.name for s in state.sessions) == ["a", "b"]
    assert state.session("a").pane_count == 2  # type: ignore[union-attr]
    assert t.lines("#{session_name} #{pane_pid}")[-1] == b_before
    (entry,) = json.loads(guardian("history", "--json").out)["entries"]
    assert entry["session"] == "a" and entry["action"].startswith("restore from")
    assert entry["action"].endswith("(by a person)") and entry["outcome"].startswith("ok")


def test_dry_run_creates_nothing(guardian, tmux_server: PrivateServer) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    sock = str(t.socket)
    t.cmd("new-session", "-d", "-s", "plan", "-x", "100", "-y", "30")
    t.cmd("send-keys", "-t", "plan", "less /etc/hostname", "Enter")
    wait_until(lambda: read(t).session("plan").windows[0].panes[0].program is not None)  # type: ignore[union-attr]
    assert guardian("-S", sock, "snapshot").code == 0
    t.crash()
    result = guardian("-S", sock, "restore", "--dry-run")
    assert result.code == 0
    assert "would restore session 'plan'" in result.out and "runs less /etc/hostname" in result.out
    assert not t.socket.exists() or t.cmd("list-sessions", check=False) == ""


def test_snapshot_changes_no_options_and_dedups(guardian, tmux_server: PrivateServer) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    sock = str(t.socket)
    t.cmd("new-session", "-d", "-s", "d")
    options = t.cmd("show-options", "-g"), t.cmd("show-options", "-gw"), t.cmd("show-hooks", "-g")
    assert "saved" in guardian("-S", sock, "snapshot").out
    assert "unchanged d" in guardian("-S", sock, "snapshot").out
    t.cmd("select-pane", "-t", "d", "-T", "a new title")  # titles are not structure
    assert "unchanged d" in guardian("-S", sock, "snapshot").out
    t.cmd("rename-window", "-t", "d:0", "renamed")
    assert "saved" in guardian("-S", sock, "snapshot").out
    newest = Path(json.loads(guardian("checkpoints", "--json").out)["checkpoints"][0]["path"])
    newest.write_bytes(b"")
    result = guardian("-S", sock, "snapshot")  # compares against the newest GOOD one
    assert "refused: empty file" in result.err and "saved" in result.out
    assert "saved" in guardian("-S", sock, "snapshot", "--force").out
    assert len(guardian("checkpoints", "d").out.splitlines()) == 3
    after = t.cmd("show-options", "-g"), t.cmd("show-options", "-gw"), t.cmd("show-hooks", "-g")
    assert after == options


def test_untrusted_store_is_refused_for_restore(
    guardian, tmux_server: PrivateServer, hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    sock = str(t.socket)
    t.cmd("new-session", "-d", "-s", "work")
    assert guardian("-S", sock, "snapshot").code == 0
    t.crash()
    (hermetic_env / "state" / "checkpoints").chmod(0o777)
    result = guardian("-S", sock, "restore", "work")
    assert result.code == 1 and "writable by other users" in result.err
    assert t.cmd("list-sessions", check=False) == ""


def test_pane_contents_come_back_when_enabled(
    guardian, tmux_server: PrivateServer, hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    (hermetic_env / "config.toml").write_text("capture_contents = true\ncapture_lines = 500\n")
    t = tmux_server
    sock = str(t.socket)
    t.cmd("new-session", "-d", "-s", "c", "-x", "100", "-y", "30")
    t.cmd("send-keys", "-t", "c", "echo remembered-$((6*7))", "Enter")
    wait_until(lambda: "remembered-42" in t.cmd("capture-pane", "-p", "-t", "c"))
    assert guardian("-S", sock, "snapshot").code == 0
    t.crash()
    assert guardian("-S", sock, "restore").code == 0
    wait_until(lambda: "remembered-42" in t.cmd("capture-pane", "-p", "-t", "c"))
    pane = read(t).session("c").windows[0].panes[0]  # type: ignore[union-attr]
    assert pane.is_shell and pane.program is None  # the shell, not a `cat` left running
    assert not list((hermetic_env / "state" / "tmp").glob("contents-*"))


def test_a_session_with_an_unreadable_name_is_named_and_the_rest_saved(
    guardian, tmux_server: PrivateServer
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "fine")
    t.cmd("new-session", "-d", "-s", "odd")
    # our field separator in a window name (`new-window -n` keeps it raw; rename-window would
    # encode it)
    t.cmd("new-window", "-t", "odd", "-n", "tab\x1fbed")
    result = guardian("-S", str(t.socket), "snapshot")
    assert "saved     fine" in result.out
    assert "not saved" in result.err and "control character" in result.err
    assert "odd" not in result.out


def test_reading_a_server_while_another_client_makes_windows_never_fails(
    tmux_server: PrivateServer,
) -> None:
    """Windows and panes are listed in one tmux invocation but not at one instant: a window
    made between the two listings must make the read start again, never fail the poll."""
    import threading

    from guardian.tmux.adapter import TmuxAdapter
    from guardian.tmux.targets import ServerTarget

    t = tmux_server
    t.cmd("new-session", "-d", "-s", "busy")
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            t.cmd("new-window", "-d", "-t", "=busy:", check=False)
            t.cmd("kill-window", "-t", "=busy:1", check=False)

    worker = threading.Thread(target=churn)
    worker.start()
    try:
        adapter = TmuxAdapter(ServerTarget.at_path(str(t.socket)))
        for _ in range(150):
            state = adapter.read_server(probe_processes=False)
            busy = state.session("busy")
            assert busy is not None and all(w.panes for w in busy.windows)
    finally:
        stop.set()
        worker.join()
