"""tmux-resurrect's own save files, written by running its save.sh (v4.0.0, master, v3.0.0)
against a private server (scripts/make_resurrect_fixtures.py), each beside what that server
really was (`*.expected.json`, read from tmux and /proc at save time). The oracle is the
saved server, field by field — never a file written by hand.

What the files themselves lose is tmux-resurrect's doing, and asserted as such: its full
command has no quoting (`vim -n file with spaces.txt`); an empty pane title makes its own
`read` shift every later field of that line (the pane pid lands in the command's place
and the full command is lost); a grouped session is one line naming the first session of
its group (no window or pane line of its own): it is imported with that session's windows
and its own active window, both in one group."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from recovery.importers import parse_resurrect
from recovery.layout import layout_panes, layout_size
from recovery.models import ServerInfo, SessionState
from tests.conftest import PrivateServer, wait_until
from tests.test_real_crash import foreground_job
from tests.test_round_trip import read

FIXTURES = Path(__file__).parent / "fixtures" / "resurrect"
VERSIONS = ("v4.0.0", "master-cff343c", "v3.0.0")
SHELLS = {"-bash", "bash", "-sh", "sh"}


def fixture(version: str) -> tuple[str, dict[str, Any]]:
    text = (FIXTURES / f"resurrect-{version}.txt").read_text()
    return text, json.loads((FIXTURES / f"resurrect-{version}.expected.json").read_text())


def saved_sessions(expected: dict[str, Any]) -> set[str]:
    """The sessions the file holds (a grouped one as a `grouped_session` line)."""
    return {s["name"] for s in expected["sessions"]}


def saved_group(expected: dict[str, Any], name: str) -> str:
    """The group a session was in: resurrect names it by its first session, here `work`,
    which is also the name tmux gave the group."""
    (saved,) = [s for s in expected["sessions"] if s["name"] == name]
    return str(saved["group"]) if saved["grouped"] else ""


def windows_of(expected: dict[str, Any], session: str) -> list[dict[str, Any]]:
    return [w for w in expected["windows"] if w["session"] == session]


def panes_of(expected: dict[str, Any], session: str, window: int) -> list[dict[str, Any]]:
    return [p for p in expected["panes"] if p["session"] == session and p["window_index"] == window]


def command_kept(version: str, pane: dict[str, Any]) -> tuple[str, ...]:
    """What the file keeps of a pane's command: the words, without quoting; nothing for a
    shell; only the program's name on the line resurrect v4 shifted (an empty title)."""
    argv = pane["foreground_argv"]
    if argv[0] in SHELLS:
        return ()
    if not version.startswith("v3") and pane["title"] == "":
        return (argv[0],)
    return (" ".join(argv),)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_format_imports_what_the_server_was(version: str) -> None:
    text, expected = fixture(version)
    checkpoints = parse_resurrect(text, ServerInfo(socket_path="/x"), datetime.now(UTC))
    sessions = {c.session.name: c.session for c in checkpoints}
    assert set(sessions) == saved_sessions(expected)
    titled = not version.startswith("v3")  # titles and automatic-rename came with v4.0.0
    for name, session in sessions.items():
        assert session.group == saved_group(expected, name), name
        saved_windows = windows_of(expected, name)
        assert [w.index for w in session.windows] == [w["index"] for w in saved_windows]
        for window, saved in zip(session.windows, saved_windows, strict=True):
            where = f"{version} {name}:{window.index}"
            assert window.name == saved["name"], where
            assert window.layout == saved["layout"], where
            assert (window.width, window.height) == (saved["width"], saved["height"]), where
            assert window.active == saved["active"], where
            assert window.zoomed == saved["zoomed"], where
            if titled:
                assert window.automatic_rename == (saved["automatic_rename_effective"] == "1")
            saved_panes = panes_of(expected, name, window.index)
            assert [p.index for p in window.panes] == [p["pane_index"] for p in saved_panes]
            for pane, saved_pane in zip(window.panes, saved_panes, strict=True):
                assert pane.cwd == saved_pane["current_path"], where
                assert pane.active == saved_pane["active"], where
                assert pane.title == (saved_pane["title"] if titled else ""), where
                assert pane.typed_commands == command_kept(version, saved_pane), where


def test_a_numeric_title_or_name_never_shifts_fields() -> None:
    text, _ = fixture("v4.0.0")
    (work,) = [
        c.session
        for c in parse_resurrect(text, ServerInfo(socket_path="/x"), datetime.now(UTC))
        if c.session.name == "work"
    ]
    window = next(w for w in work.windows if w.index == 3)
    assert window.name == "1234" and [p.title for p in window.panes] == ["42", "my title"]
    assert all(p.cwd.startswith("/tmp/") for p in window.panes)


def test_the_line_resurrect_shifted_for_an_empty_title_is_read_back_in_place() -> None:
    text, expected = fixture("v4.0.0")
    (other,) = [
        c.session
        for c in parse_resurrect(text, ServerInfo(socket_path="/x"), datetime.now(UTC))
        if c.session.name == "other"
    ]
    (pane,) = other.windows[0].panes
    assert (pane.title, pane.cwd, pane.active) == ("", f"{expected['root']}/other", True)
    assert pane.typed_commands == ("less",)  # its arguments were lost by resurrect itself


@pytest.mark.parametrize(
    "line",
    [
        "pane\tw\t0\t1\t:*\t0\ttitle\tnot-a-dir\t1\tbash\t:",  # v4 shape, no `:` dir
        "pane\tw\t0\t2\t:*\t0\tt\t:/\t1\tbash\t:",  # window active 2
        "pane\tw\tx\t1\t:*\t0\tt\t:/\t1\tbash\t:",  # window index x
        "window\tw\t0\t:n\t1\t:*\tb25d,80x24,0,0,0",  # 7 fields: no format has 7
    ],
)
def test_a_line_in_no_known_format_is_refused_with_its_number(line: str) -> None:
    text = "pane\tw\t0\t1\t:*\t0\tt\t:/\t1\tbash\t:\n" + line + "\n"
    with pytest.raises(ValueError, match="line 2: "):
        parse_resurrect(text, ServerInfo(socket_path="/x"), datetime.now(UTC))


@pytest.mark.tmux
@pytest.mark.parametrize("version", ("v4.0.0", "v3.0.0"))
def test_a_real_save_file_restores_what_the_server_was(
    guardian, tmux_server: PrivateServer, hermetic_env: Path, version: str
) -> None:  # type: ignore[no-untyped-def]
    """Imported (vouched for) and restored: every field of the saved server comes back,
    checked against what tmux and /proc said at save time."""
    text, expected = fixture(version)
    root = Path(os.path.realpath(hermetic_env)) / "saved root"  # a space: escaped in the file
    for pane in expected["panes"]:
        Path(pane["current_path"].replace(expected["root"], str(root))).mkdir(
            parents=True, exist_ok=True
        )
    (root / "other" / "README").write_text("read me\n")
    (root / "logs" / "app.log").write_text("start\n")
    save = hermetic_env / "last"
    save.write_text(text.replace(expected["root"], str(root).replace(" ", "\\ ", 1)))
    sock = str(tmux_server.socket)
    imported = guardian("-S", sock, "import", "resurrect", str(save), "--trust-commands")
    assert imported.code == 0, imported
    restored = guardian("-S", sock, "restore", *sorted(saved_sessions(expected)))
    assert restored.code == 0, restored
    titled = not version.startswith("v3")
    for name in sorted(saved_sessions(expected)):
        session = read(tmux_server).session(name)
        assert isinstance(session, SessionState)
        assert [w.index for w in session.windows] == [
            w["index"] for w in windows_of(expected, name)
        ]
        for window, saved in zip(session.windows, windows_of(expected, name), strict=True):
            where = f"{version} {name}:{window.index}"
            if not (titled and saved["automatic_rename_effective"] == "1"):
                assert window.name == saved["name"], where  # (else tmux names it)
            shown = tmux_server.cmd(
                "display-message", "-p", "-t", f"={name}:{window.index}", "#{window_layout}"
            ).strip()
            # the same geometry (a layout string also names pane ids, which differ)
            assert layout_panes(shown) == layout_panes(saved["layout"]), where
            assert layout_size(shown) == layout_size(saved["layout"]), where
            assert window.active == saved["active"] and window.zoomed == saved["zoomed"], where
            for pane, saved_pane in zip(
                window.panes, panes_of(expected, name, window.index), strict=True
            ):
                assert pane.cwd == saved_pane["current_path"].replace(expected["root"], str(root))
                assert pane.active == saved_pane["active"], where
                if titled and saved_pane["title"]:  # (an empty one comes back as tmux's default)
                    assert pane.title == saved_pane["title"], where
                kept = command_kept(version, saved_pane)
                if kept and kept != (saved_pane["foreground_argv"][0],):  # (`less` alone: exits)
                    pid = int(
                        tmux_server.cmd("display-message", "-p", "-t", pane.pane_id, "#{pane_pid}")
                    )
                    wait_until(
                        lambda p=pid, k=kept: [" ".join(a) for a in foreground_job(p)] == list(k),  # type: ignore[misc]
                        timeout=10,
                    )
