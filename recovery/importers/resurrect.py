"""tmux-resurrect save files (tab-separated pane/window/state lines) into checkpoints;
every layout is checked against tmux's own checksum first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from recovery.checkpoint import Checkpoint
from recovery.importers.common import (
    MAX_FILE_BYTES,
    ImportError_,
    checkpoint_of,
    typed_commands,
)
from recovery.layout import LayoutError, check_layout, layout_panes, layout_size
from recovery.may_run.text import visible
from recovery.models import PaneState, ServerInfo, SessionState, WindowState


@dataclass
class _RWindow:
    index: int
    name: str = ""
    active: bool = False
    flags: str = ""
    layout: str = ""
    automatic_rename: bool = False
    panes: list[dict[str, Any]] = field(default_factory=list)
    line: int = 0


def _field(value: str) -> str:
    """resurrect prefixes fields that may be empty with ':'."""
    return value[1:] if value.startswith(":") else value


def _directory(value: str) -> str:
    """resurrect escapes a space in a directory as `\\ ` (only the first one, by sed)."""
    return _field(value).replace("\\ ", " ")


def _flag(value: str) -> bool:
    if value not in ("0", "1"):
        raise ValueError(f"{value!r} is not 0 or 1")
    return value == "1"


def parse_resurrect(
    text: str, server: ServerInfo, when: datetime, *, vouched: bool = False
) -> list[Checkpoint]:
    """A resurrect save file into checkpoints. Every format it has written is read, each
    line recognized by its structure (never by a field count alone, so a numeric title or
    name cannot shift fields); a line that matches no format is refused, by number."""
    if len(text) > MAX_FILE_BYTES:
        raise ImportError_(f"{len(text)} characters: not a save file (at most {MAX_FILE_BYTES})")
    sessions: dict[str, dict[int, _RWindow]] = {}
    grouped: list[_Grouped] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        parts = raw.split("\t")
        kind = parts[0]
        try:
            if kind == "pane":
                _resurrect_pane(_pane_fields(parts, number), number, sessions)
            elif kind == "window":
                _resurrect_window(parts, number, sessions)
            elif kind == "grouped_session":
                grouped.append(_grouped_line(parts, number))
            elif kind == "state":
                continue
            else:
                raise ImportError_(f"line {number}: unknown line type {visible(kind)!r}")
        except (IndexError, ValueError) as exc:
            if isinstance(exc, ImportError_):
                raise
            raise ImportError_(f"line {number}: malformed {kind} line ({exc})") from None
    if not sessions:
        raise ImportError_("no pane lines: not a tmux-resurrect save file")
    states = {name: _resurrect_session(name, windows) for name, windows in sessions.items()}
    states.update(_grouped_sessions(grouped, states))
    return [
        checkpoint_of(state, server, when, "import resurrect", vouched=vouched)
        for state in states.values()
    ]


def _pane_fields(parts: list[str], number: int) -> dict[str, Any]:
    """The fields of a pane line in whichever format wrote it:
    - v0.4 to v3.x: pane, session, window, :window name, window active, :flags, pane,
      :dir, pane active, command, :full command;
    - v4.0 on: pane, session, window, window active, :flags, pane, title, :dir, pane active,
      command, :full command;
    - v4.0 on with an EMPTY title: its own `read` (IFS=tab) merges the empty field, so
      every later one moves left and the pane pid takes the command's place: pane, session,
      window, window active, :flags, pane, :dir, pane active, command, pid, `:`."""
    if len(parts) != 11:
        raise ImportError_(
            f"line {number}: a pane line of {len(parts)} fields (every tmux-resurrect format "
            "writes 11)"
        )
    if parts[3].startswith(":") and parts[4] in ("0", "1"):
        _, session, window, name, w_active, flags, pane, cwd, p_active, cmd, full = parts
        title: str | None = None
    elif parts[3] in ("0", "1") and parts[4].startswith(":") and parts[7].startswith(":"):
        _, session, window, w_active, flags, pane, title, cwd, p_active, cmd, full = parts
        name = ""
    elif (
        parts[3] in ("0", "1")
        and parts[4].startswith(":")
        and parts[6].startswith(":")
        and parts[7] in ("0", "1")
        and parts[9].isdigit()
    ):
        _, session, window, w_active, flags, pane, cwd, p_active, cmd, _pid, full = parts
        name, title = "", ""
    else:
        raise ImportError_(
            f"line {number}: a pane line in no format tmux-resurrect writes: "
            + visible(" | ".join(parts[1:]))[:200]
        )
    if not (cwd.startswith(":") and window.isdigit() and pane.isdigit()):
        raise ImportError_(f"line {number}: a pane line whose window, pane or directory is not one")
    return {
        "session": session,
        "window": int(window),
        "window_name": _field(name) if name else None,
        "window_active": _flag(w_active),
        "flags": _field(flags),
        "index": int(pane),
        "title": title,
        "cwd": _directory(cwd),
        "active": _flag(p_active),
        "command": cmd,
        "full": _field(full),
    }


def _resurrect_pane(
    fields: dict[str, Any], number: int, sessions: dict[str, dict[int, _RWindow]]
) -> None:
    index = fields["window"]
    window = sessions.setdefault(fields["session"], {}).setdefault(index, _RWindow(index))
    if fields["window_name"] is not None:
        window.name = fields["window_name"]
    window.active = fields["window_active"]
    window.flags = fields["flags"]
    window.line = window.line or number
    window.panes.append({**fields, "line": number})


def _resurrect_window(
    parts: list[str], number: int, sessions: dict[str, dict[int, _RWindow]]
) -> None:
    """v4.0 on: window, session, index, :name, active, :flags, layout, automatic-rename
    (`on`, `off`, or empty: the global default); before: window, session, index, active,
    :flags, layout."""
    if len(parts) == 8 and parts[3].startswith(":") and parts[4] in ("0", "1"):
        _, session, index, name, _active, _flags, layout, rename = parts
    elif len(parts) == 6 and parts[3] in ("0", "1") and parts[4].startswith(":"):
        _, session, index, _active, _flags, layout = parts
        name, rename = "", "off"
    else:
        raise ImportError_(
            f"line {number}: a window line in no format tmux-resurrect writes: "
            + visible(" | ".join(parts[1:]))[:200]
        )
    window = sessions.setdefault(session, {}).setdefault(int(index), _RWindow(int(index)))
    if name:
        window.name = _field(name)
    window.automatic_rename = rename in ("on", "")  # empty: unset, tmux's default is on
    try:
        check_layout(layout)
    except LayoutError as exc:
        raise ImportError_(f"line {number}: invalid layout ({exc})") from None
    window.layout = layout
    window.line = window.line or number


def _resurrect_session(name: str, windows: dict[int, _RWindow]) -> SessionState:
    states = []
    for window in sorted(windows.values(), key=lambda w: w.index):
        if not window.panes:
            raise ImportError_(
                f"line {window.line}: window {window.index} of '{name}' has no panes"
            )
        if not window.layout:
            raise ImportError_(
                f"line {window.line}: window {window.index} of '{name}' has no window line (layout)"
            )
        geometry = layout_panes(window.layout)
        panes = sorted(window.panes, key=lambda p: p["index"])
        if len(geometry) != len(panes):
            raise ImportError_(
                f"line {window.line}: layout of window {window.index} has "
                f"{len(geometry)} panes, the file {len(panes)}"
            )
        width, height = layout_size(window.layout)
        if "Z" in window.flags:
            # the saved layout is the unzoomed one; tmux reports zoomed geometry: unknown
            geometry = [(0, 0, 0, 0)] * len(geometry)
        states.append(
            WindowState(
                index=window.index,
                window_id="@?",
                name=window.name or "",
                width=width,
                height=height,
                layout=window.layout,
                active=window.active or "*" in window.flags,
                zoomed="Z" in window.flags,
                automatic_rename=window.automatic_rename,
                panes=tuple(
                    PaneState(
                        index=p["index"],
                        pane_id="%?",
                        cwd=p["cwd"],
                        title=p["title"] or "",
                        active=p["active"],
                        left=g[0],
                        top=g[1],
                        width=g[2],
                        height=g[3],
                        is_shell=True,
                        start_command="",
                        typed_commands=typed_commands([p["full"] or p["command"]]),
                    )
                    for p, g in zip(panes, geometry, strict=True)
                ),
            )
        )
    return SessionState(session_id="$?", name=name, created=0, windows=tuple(states))


@dataclass(frozen=True)
class _Grouped:
    """A `grouped_session` line: grouped_session, session, original session, :alternate
    window index, :active window index. resurrect writes no window or pane line of such
    a session: it shares the windows of the original one (the first of its group)."""

    name: str
    original: str
    active: int | None
    line: int


def _grouped_line(parts: list[str], number: int) -> _Grouped:
    if len(parts) != 5 or not (parts[3].startswith(":") and parts[4].startswith(":")):
        raise ImportError_(
            f"line {number}: a grouped_session line in no format tmux-resurrect writes: "
            + visible(" | ".join(parts[1:]))[:200]
        )
    active = _field(parts[4])
    if active and not active.isdigit():
        raise ImportError_(f"line {number}: a grouped session's active window is not an index")
    return _Grouped(parts[1], parts[2], int(active) if active else None, number)


def _grouped_sessions(
    grouped: list[_Grouped], states: dict[str, SessionState]
) -> dict[str, SessionState]:
    """Each grouped session with its original session's windows (its own active one
    selected), and both in the group resurrect knew by the original session's name."""
    found: dict[str, SessionState] = {}
    for line in grouped:
        where = f"line {line.line}: grouped session '{visible(line.name)}'"
        original = found.get(line.original) or states.get(line.original)
        if original is None:
            raise ImportError_(f"{where}: no session '{visible(line.original)}' in the file")
        if line.name in states:
            raise ImportError_(f"{where}: also has pane lines of its own")
        found[line.original] = original.model_copy(update={"group": line.original})
        indexes = {window.index for window in original.windows}
        windows = original.windows
        if line.active in indexes:
            windows = tuple(
                w.model_copy(update={"active": w.index == line.active}) for w in windows
            )
        found[line.name] = original.model_copy(
            update={"name": line.name, "group": line.original, "windows": windows}
        )
    return found
