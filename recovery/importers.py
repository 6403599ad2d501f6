"""Take over from the tools people use today: tmux-resurrect save files and tmuxp
workspaces become checkpoints (checked before any is written); a checkpoint becomes a tmuxp
workspace. Pure: text in, models out."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from recovery.checkpoint import Checkpoint
from recovery.layout import LayoutError, check_layout, layout_panes, layout_size
from recovery.models import PaneState, ProgramState, ServerInfo, SessionState, WindowState
from recovery.store import new_checkpoint_id
from recovery.structure import structure_key

SHELL_NAMES = frozenset({"sh", "bash", "zsh", "fish", "dash", "ksh", "tcsh", "csh", "ash"})


class ImportError_(ValueError):
    """A file that cannot be imported; the message names the line (or key) and why."""


def _program(command: str) -> ProgramState | None:
    try:
        argv = tuple(shlex.split(command))
    except ValueError:
        argv = tuple(command.split())
    if not argv or argv[0].rsplit("/", 1)[-1].lstrip("-") in SHELL_NAMES:
        return None
    return ProgramState(argv=argv, pid=0, started_at=0.0)


def _commands_program(commands: list[str]) -> ProgramState | None:
    """tmuxp runs a pane's commands in turn: one command is that program; several become
    one `sh -c` line (not on the allowlist, so restore types it rather than runs it)."""
    if not commands:
        return None
    if len(commands) == 1:
        return _program(commands[0])
    return ProgramState(argv=("sh", "-c", "; ".join(commands)), pid=0, started_at=0.0)


def _checkpoint(
    session: SessionState, server: ServerInfo, when: datetime, reason: str
) -> Checkpoint:
    return Checkpoint(
        id=new_checkpoint_id(when),
        created_at=when,
        reason=reason,
        server=server,
        session=session,
        structure=structure_key(session),
    )


# -- tmux-resurrect ---------------------------------------------------------------------------


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


def parse_resurrect(text: str, server: ServerInfo, when: datetime) -> list[Checkpoint]:
    """A resurrect save file (tab-separated pane/window/state lines) into checkpoints."""
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
        _checkpoint(_resurrect_session(name, windows), server, when, "import resurrect")
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
                        program=_program(p["full"] or p["command"]),
                    )
                    for p, g in zip(panes, geometry, strict=True)
                ),
            )
        )
    return SessionState(session_id="$?", name=name, created=0, windows=tuple(states))


# -- tmuxp ------------------------------------------------------------------------------------


def parse_tmuxp(text: str, server: ServerInfo, when: datetime, home: str) -> Checkpoint:
    """A tmuxp workspace (YAML or JSON) into a checkpoint."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "somewhere"
        raise ImportError_(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict) or not isinstance(data.get("session_name"), str):
        raise ImportError_("'session_name': missing (not a tmuxp workspace)")
    windows = data.get("windows")
    if not isinstance(windows, list) or not windows:
        raise ImportError_("'windows': must be a non-empty list")
    base = _expand(data.get("start_directory"), home, home)
    states = []
    for w_index, window in enumerate(windows):
        where = f"windows[{w_index}]"
        if not isinstance(window, dict):
            raise ImportError_(f"'{where}': must be a mapping")
        w_dir = _expand(window.get("start_directory"), base, home)
        panes = window.get("panes") or [None]
        if not isinstance(panes, list):
            raise ImportError_(f"'{where}.panes': must be a list")
        pane_states = []
        for p_index, pane in enumerate(panes):
            commands, p_dir, focus = _tmuxp_pane(pane, f"{where}.panes[{p_index}]", w_dir, home)
            pane_states.append(
                PaneState(
                    index=p_index,
                    pane_id="%?",
                    cwd=p_dir,
                    title="",
                    active=focus,
                    width=0,
                    height=0,
                    left=0,
                    top=0,
                    is_shell=True,
                    program=_commands_program(commands),
                )
            )
        if not any(p.active for p in pane_states):
            pane_states[0] = pane_states[0].model_copy(update={"active": True})
        layout = window.get("layout") or "tiled"
        if not isinstance(layout, str):
            raise ImportError_(f"'{where}.layout': must be a layout name or string")
        states.append(
            WindowState(
                index=int(window.get("window_index", w_index)),
                window_id="@?",
                name=str(window.get("window_name") or ""),
                width=200,
                height=50,
                layout=layout,
                active=bool(window.get("focus")),
                panes=tuple(pane_states),
            )
        )
    if not any(w.active for w in states):
        states[0] = states[0].model_copy(update={"active": True})
    session = SessionState(
        session_id="$?", name=data["session_name"], created=0, windows=tuple(states)
    )
    return _checkpoint(session, server, when, "import tmuxp")


def _expand(value: object, base: str, home: str) -> str:
    if value is None or value == "":
        return base
    text = str(value)
    if text.startswith("~"):
        text = home + text[1:]
    if not text.startswith("/"):
        text = f"{base.rstrip('/')}/{text}"
    return text


def _tmuxp_pane(pane: object, where: str, w_dir: str, home: str) -> tuple[list[str], str, bool]:
    if pane is None or pane in ("blank", "pane"):
        return [], w_dir, False
    if isinstance(pane, str):
        return [pane], w_dir, False
    if isinstance(pane, list):
        return [str(c) for c in pane], w_dir, False
    if isinstance(pane, dict):
        commands = pane.get("shell_command", [])
        if isinstance(commands, str):
            commands = [commands]
        if not isinstance(commands, list):
            raise ImportError_(f"'{where}.shell_command': must be a string or a list")
        commands = [c.get("cmd") if isinstance(c, dict) else c for c in commands]
        directory = _expand(pane.get("start_directory"), w_dir, home)
        return [str(c) for c in commands if c], directory, bool(pane.get("focus"))
    raise ImportError_(f"'{where}': must be a command, a list of commands or a mapping")


def export_tmuxp(checkpoint: Checkpoint) -> dict[str, Any]:
    """A tmuxp workspace that `tmuxp load` rebuilds the session from."""
    windows = []
    for window in checkpoint.session.windows:
        panes = []
        for pane in window.panes:
            entry: dict[str, Any] = {"start_directory": pane.cwd}
            if pane.program is not None:
                entry["shell_command"] = [shlex.join(pane.program.argv)]
            if pane.active:
                entry["focus"] = True
            panes.append(entry)
        item: dict[str, Any] = {
            "window_name": window.name,
            "window_index": window.index,
            "layout": window.layout,
            "panes": panes,
        }
        if window.active:
            item["focus"] = True
        windows.append(item)
    return {"session_name": checkpoint.session.name, "windows": windows}


def sessions_in(checkpoints: Iterable[Checkpoint]) -> list[str]:
    return [c.session.name for c in checkpoints]
