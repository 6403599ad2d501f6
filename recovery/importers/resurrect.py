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
from recovery.models import PaneState, ServerInfo, SessionState, WindowState


@dataclass
class _RWindow:
    index: int
    name: str = ""
    active: bool = False
    flags: str = ""
    layout: str = ""
    panes: list[dict[str, Any]] = field(default_factory=list)
    line: int = 0


def _field(value: str) -> str:
    """resurrect prefixes fields that may be empty with ':'."""
    return value[1:] if value.startswith(":") else value


def parse_resurrect(
    text: str, server: ServerInfo, when: datetime, *, vouched: bool = False
) -> list[Checkpoint]:
    """A resurrect save file (tab-separated pane/window/state lines) into checkpoints."""
    if len(text) > MAX_FILE_BYTES:
        raise ImportError_(f"{len(text)} characters: not a save file (at most {MAX_FILE_BYTES})")
    sessions: dict[str, dict[int, _RWindow]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        parts = raw.split("\t")
        kind = parts[0]
        try:
            if kind == "pane":
                _resurrect_pane(parts, number, sessions)
            elif kind == "window":
                _resurrect_window(parts, number, sessions)
            elif kind in ("state", "grouped_session"):
                continue
            else:
                raise ImportError_(f"line {number}: unknown line type {kind!r}")
        except (IndexError, ValueError) as exc:
            if isinstance(exc, ImportError_):
                raise
            raise ImportError_(f"line {number}: malformed {kind} line ({exc})") from None
    if not sessions:
        raise ImportError_("no pane lines: not a tmux-resurrect save file")
    return [
        checkpoint_of(
            _resurrect_session(name, windows), server, when, "import resurrect", vouched=vouched
        )
        for name, windows in sessions.items()
    ]


def _resurrect_pane(
    parts: list[str], number: int, sessions: dict[str, dict[int, _RWindow]]
) -> None:
    if len(parts) == 11:  # current: no pane title
        _, session, w_index, w_name, w_active, w_flags, p_index, cwd, p_active, cmd, full = parts
    elif len(parts) == 12:  # older: with the pane title
        (
            _,
            session,
            w_index,
            w_name,
            w_active,
            w_flags,
            p_index,
            _title,
            cwd,
            p_active,
            cmd,
            full,
        ) = parts
    else:
        raise ImportError_(f"line {number}: pane line with {len(parts)} fields, expected 11 or 12")
    window = sessions.setdefault(session, {}).setdefault(int(w_index), _RWindow(int(w_index)))
    window.name = _field(w_name)
    window.active = w_active == "1"
    window.flags = _field(w_flags)
    window.line = window.line or number
    window.panes.append(
        {
            "index": int(p_index),
            "cwd": _field(cwd),
            "active": p_active == "1",
            "command": cmd,
            "full": _field(full),
            "line": number,
        }
    )


def _resurrect_window(
    parts: list[str], number: int, sessions: dict[str, dict[int, _RWindow]]
) -> None:
    if len(parts) < 6:
        raise ImportError_(f"line {number}: window line with {len(parts)} fields, expected 6")
    session, w_index = parts[1], int(parts[2])
    window = sessions.setdefault(session, {}).setdefault(w_index, _RWindow(w_index))
    layout = parts[5] if len(parts) == 6 else parts[6]  # older files carry the name first
    if len(parts) >= 7 and not window.name:
        window.name = _field(parts[3])
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
                panes=tuple(
                    PaneState(
                        index=p["index"],
                        pane_id="%?",
                        cwd=p["cwd"],
                        title="",
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
