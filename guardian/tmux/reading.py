"""Reading a whole server in one `list-panes -a` answer: the fields asked for, and how
their text becomes the state models (DESIGN.md, "The live model")."""

from __future__ import annotations

from dataclasses import dataclass

from guardian.errors import ReadError
from guardian.tmux.probes import probe_pane
from recovery.models import PaneState, ServerInfo, ServerState, SessionState, WindowState

FIELD_SEP = "\x1f"
RECORD_END = "\x1e"

# Numbers and ids first; text a person controls (names, titles, paths) last.
PANE_FIELDS: tuple[str, ...] = (
    "pid",
    "version",
    "session_id",
    "session_created",
    "session_attached",
    "window_id",
    "window_index",
    "window_width",
    "window_height",
    "window_active",
    "window_zoomed_flag",
    "automatic-rename",
    "window_layout",
    "pane_id",
    "pane_index",
    "pane_width",
    "pane_height",
    "pane_left",
    "pane_top",
    "pane_active",
    "pane_dead",
    "pane_dead_status",
    "pane_dead_signal",
    "pane_in_mode",
    "pane_input_off",
    "history_size",
    "cursor_x",
    "cursor_y",
    "pane_pid",
    "session_name",
    "window_name",
    "pane_title",
    "pane_current_path",
    "pane_current_command",
    "pane_start_command",
)
PANE_FORMAT = FIELD_SEP.join(f"#{{{name}}}" for name in PANE_FIELDS) + FIELD_SEP + RECORD_END


@dataclass(frozen=True)
class RawPane:
    fields: dict[str, str]


def parse_pane_records(output: str) -> tuple[list[RawPane], list[str]]:
    """Split tmux's answer into records and fields. A record of the wrong shape (a window
    name, title or path holding our separator) is never guessed at: its whole session is
    left out and named, so the rest of the server is still read."""
    rows: list[RawPane] = []
    unreadable: list[str] = []
    expected = len(PANE_FIELDS) + 1
    for record in output.split(RECORD_END + "\n"):
        if not record:
            continue
        parts = record.split(FIELD_SEP)
        if len(parts) != expected or parts[-1] != "":
            session_id = parts[2] if len(parts) > 2 and parts[2].startswith("$") else None
            if session_id is None:
                raise ReadError("cannot parse tmux's answer (a field count did not match)")
            if session_id not in unreadable:
                unreadable.append(session_id)
            continue
        rows.append(RawPane(dict(zip(PANE_FIELDS, parts[:-1], strict=True))))
    if unreadable:
        rows = [row for row in rows if row.fields["session_id"] not in unreadable]
    return rows, unreadable


def _int(value: str, default: int | None = None) -> int | None:
    try:
        return int(value)
    except ValueError:
        return default


def build_server_state(
    socket_path: str, rows: list[RawPane], *, probe_processes: bool, read_at: float
) -> ServerState:
    """Group pane rows into sessions and windows (tmux lists them in order)."""
    panes: dict[tuple[str, str], list[PaneState]] = {}
    firsts: dict[tuple[str, str], dict[str, str]] = {}
    server = ServerInfo(socket_path=socket_path)
    for row in rows:
        f = row.fields
        server = ServerInfo(socket_path=socket_path, pid=_int(f["pid"]), version=f["version"])
        key = (f["session_id"], f["window_id"])
        firsts.setdefault(key, f)
        panes.setdefault(key, []).append(_pane(f, probe_processes))
    windows: dict[str, list[WindowState]] = {}
    sessions: dict[str, dict[str, str]] = {}
    for key, f in firsts.items():
        sessions.setdefault(f["session_id"], f)
        windows.setdefault(f["session_id"], []).append(_window(f, tuple(panes[key])))
    states = tuple(
        SessionState(
            session_id=session_id,
            name=f["session_name"],
            created=_int(f["session_created"], 0) or 0,
            attached=_int(f["session_attached"], 0) or 0,
            windows=tuple(windows[session_id]),
        )
        for session_id, f in sessions.items()
    )
    return ServerState(server=server, sessions=states, read_at=read_at)


def _window(f: dict[str, str], panes: tuple[PaneState, ...]) -> WindowState:
    return WindowState(
        index=_int(f["window_index"], 0) or 0,
        window_id=f["window_id"],
        name=f["window_name"],
        width=_int(f["window_width"], 0) or 0,
        height=_int(f["window_height"], 0) or 0,
        layout=f["window_layout"],
        active=f["window_active"] == "1",
        zoomed=f["window_zoomed_flag"] == "1",
        automatic_rename=f["automatic-rename"] in ("1", "on"),
        panes=panes,
    )


def _pane(f: dict[str, str], probe_processes: bool) -> PaneState:
    dead = f["pane_dead"] == "1"
    pid = _int(f["pane_pid"])
    facts = probe_pane(pid) if probe_processes and pid and not dead else None
    return PaneState(
        index=_int(f["pane_index"], 0) or 0,
        pane_id=f["pane_id"],
        cwd=f["pane_current_path"],
        title=f["pane_title"],
        active=f["pane_active"] == "1",
        width=_int(f["pane_width"], 0) or 0,
        height=_int(f["pane_height"], 0) or 0,
        left=_int(f["pane_left"], 0) or 0,
        top=_int(f["pane_top"], 0) or 0,
        dead=dead,
        dead_status=_int(f["pane_dead_status"]) if dead else None,
        dead_signal=_int(f["pane_dead_signal"]) if dead else None,
        in_mode=f["pane_in_mode"] == "1",
        input_off=f["pane_input_off"] == "1",
        history_size=_int(f["history_size"], 0) or 0,
        cursor=(_int(f["cursor_x"], 0) or 0, _int(f["cursor_y"], 0) or 0),
        writer_blocked=facts.writer_blocked if facts else False,
        foreground_group=facts.foreground_group if facts else None,
        written_bytes=facts.written if facts else None,
        start_command=f["pane_start_command"],
        current_command=f["pane_current_command"],
        process=facts.process if facts else None,
        is_shell=facts.is_shell if facts else not f["pane_start_command"],
        program=facts.program if facts else None,
        stopped=facts.stopped if facts else False,
        job=facts.job if facts else (),
    )
