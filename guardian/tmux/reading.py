"""Reading a whole server in one `list-panes -a` answer: the fields asked for, and how
their text becomes the state models (DESIGN.md, "The live model")."""

from __future__ import annotations

import operator
import os
from dataclasses import dataclass

from guardian.errors import ReadError
from guardian.tmux.probes import PaneProcesses, probe_pane
from guardian.tmux.procfs import foreground_cwd
from recovery.models import PaneState, ServerInfo, ServerState, SessionState, WindowState

FIELD_SEP = "\x1f"
RECORD_END = "\x1e"

# Numbers and ids first; text a person controls (names, titles, paths) last. What belongs
# to a session or window is asked once per window, the rest once per pane: tmux expands
# every field of every record, and a poll of 200 panes asks it every second.
WINDOW_FIELDS: tuple[str, ...] = (
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
    "session_name",
    "session_group",  # empty when not grouped
    "window_name",
)
# A window of a session group is listed once per session of the group (with that
# session's `window_active`): its panes are known by session and window together.
PANE_ONLY_FIELDS: tuple[str, ...] = (
    "session_id",
    "window_id",
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
    "pane_title",
    "pane_start_command",
)
# Not asked of tmux: `pane_current_path` and `pane_current_command` make it read /proc for
# every pane (two thirds of its work for a poll of 200 panes); the probe that follows
# reads the same facts once, from the same foreground process group.
PANE_FIELDS: tuple[str, ...] = WINDOW_FIELDS + PANE_ONLY_FIELDS[2:]
"""Every field of a pane record once parsed (its window's fields included)."""
_pane_fields = operator.itemgetter(*PANE_ONLY_FIELDS[1:])
"""A pane's own facts (not which session lists it: a grouped pane is listed once per
session, and is the same pane in each)."""


def _format(marker: str, fields: tuple[str, ...]) -> str:
    return marker + FIELD_SEP + FIELD_SEP.join(f"#{{{n}}}" for n in fields) + FIELD_SEP + RECORD_END


WINDOW_FORMAT = _format("W", WINDOW_FIELDS)
PANE_FORMAT = _format("P", PANE_ONLY_FIELDS)
READ_COMMANDS: list[list[str]] = [
    ["list-windows", "-a", "-F", WINDOW_FORMAT],
    ["list-panes", "-a", "-F", PANE_FORMAT],
]
"""One tmux invocation: every window, then every pane."""


class TornReadError(ReadError):
    """A pane of a window the window listing did not have. tmux runs one client's command
    list back to back (450 reads while another client made and killed windows never saw
    it), so this is a guard: should it happen, the read is simply made again."""


PaneMemo = dict[str, tuple[object, PaneState]]
"""Pane id -> (every fact a pane model is made of, that model)."""
EarlyProbes = dict[int, tuple[PaneProcesses, str]]
"""Pane process id -> (its probe, its directory)."""


@dataclass(frozen=True)
class RawPane:
    fields: dict[str, str]


def parse_pane_records(output: str) -> tuple[list[RawPane], list[str]]:
    """Split tmux's answer (window records, then pane records) into one record per pane
    with its window's fields. A record of the wrong shape (a name, title or path holding
    our separator) is never guessed at: its whole session is left out and named, so the
    rest of the server is still read."""
    windows: dict[tuple[str, str], dict[str, str]] = {}  # (session id, window id) -> fields
    refused_windows: set[tuple[str, str]] = set()
    rows: list[RawPane] = []
    unreadable: list[str] = []

    def refuse(session_id: str | None) -> None:
        if session_id is None:
            raise ReadError("cannot parse tmux's answer (a field count did not match)")
        if session_id not in unreadable:
            unreadable.append(session_id)

    for record in output.split(RECORD_END + "\n"):
        if not record:
            continue
        parts = record.split(FIELD_SEP)
        if parts[0] == "W":
            if len(parts) != len(WINDOW_FIELDS) + 2 or parts[-1] != "":
                # (ids and numbers come before the names: they are still in place)
                session_id = parts[3] if len(parts) > 6 and parts[3].startswith("$") else None
                refuse(session_id)
                refused_windows.add((session_id or "", parts[6]))
                continue
            fields = dict(zip(WINDOW_FIELDS, parts[1:-1], strict=True))
            windows[fields["session_id"], fields["window_id"]] = fields
        elif parts[0] == "P":
            key = (parts[1], parts[2]) if len(parts) > 2 else None
            window = windows.get(key) if key is not None else None
            if window is None and key in refused_windows:
                continue  # its session is already left out
            if window is None:  # a window made between the two listings: read again
                raise TornReadError("a window appeared between the two listings")
            if len(parts) != len(PANE_ONLY_FIELDS) + 2 or parts[-1] != "":
                refuse(window["session_id"])
                continue
            pane = dict(zip(PANE_ONLY_FIELDS, parts[1:-1], strict=True))
            rows.append(RawPane({**window, **pane}))
        else:
            raise ReadError("cannot parse tmux's answer (a record of no known kind)")
    if unreadable:
        rows = [row for row in rows if row.fields["session_id"] not in unreadable]
    return rows, unreadable


def _int(value: str, default: int | None = None) -> int | None:
    try:
        return int(value)
    except ValueError:
        return default


def build_server_state(
    socket_path: str,
    rows: list[RawPane],
    *,
    probe_processes: bool,
    read_at: float,
    own_session: str | None = None,
    memo: PaneMemo | None = None,
    early: EarlyProbes | None = None,
) -> ServerState:
    """Group pane rows into sessions and windows (tmux lists them in order). Our own
    control client, attached to `own_session`, is not counted among its clients. With a
    `memo`, a pane whose every fact is as at the last read is that same model again;
    `early` holds the probes made while tmux was answering."""
    panes: dict[tuple[str, str], list[PaneState]] = {}
    firsts: dict[tuple[str, str], dict[str, str]] = {}
    server = ServerInfo(socket_path=socket_path)
    if rows:
        f = rows[0].fields
        server = ServerInfo(socket_path=socket_path, pid=_int(f["pid"]), version=f["version"])
    seen: PaneMemo = {}
    for row in rows:
        f = row.fields
        key = (f["session_id"], f["window_id"])
        firsts.setdefault(key, f)
        panes.setdefault(key, []).append(_pane(f, probe_processes, memo, seen, early or {}))
    if memo is not None:
        memo.clear()
        memo.update(seen)
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
            attached=max(0, (_int(f["session_attached"], 0) or 0) - (session_id == own_session)),
            group=f["session_group"],
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


def probe_early(pids: list[int]) -> EarlyProbes:
    """The probes of panes known from the last read, made while tmux answers this one
    (tmux works on one core, this on the other): a pane a probe saw alive that tmux now
    calls dead is simply dead."""
    found: EarlyProbes = {}
    for pid in pids:
        facts = probe_pane(pid)
        found[pid] = (facts, foreground_cwd(pid, facts.foreground_group))
    return found


def _pane(
    f: dict[str, str],
    probe_processes: bool,
    memo: PaneMemo | None,
    seen: PaneMemo,
    early: EarlyProbes,
) -> PaneState:
    listed = seen.get(f["pane_id"])
    if listed is not None:  # a pane of a session group, listed again for another member
        return listed[1]
    dead = f["pane_dead"] == "1"
    pid = _int(f["pane_pid"])
    facts: PaneProcesses | None = None
    cwd = ""
    if pid and not dead:
        if probe_processes and pid in early:
            facts, cwd = early[pid]
        else:
            facts = probe_pane(pid) if probe_processes else None
            cwd = foreground_cwd(pid, facts.foreground_group if facts else None)
    facts_key = (_pane_fields(f), facts, cwd)
    known = memo.get(f["pane_id"]) if memo is not None else None
    pane = known[1] if known is not None and known[0] == facts_key else _new_pane(f, facts, cwd)
    seen[f["pane_id"]] = (facts_key, pane)
    return pane


def _new_pane(f: dict[str, str], facts: PaneProcesses | None, cwd: str) -> PaneState:
    dead = f["pane_dead"] == "1"
    return PaneState(
        index=_int(f["pane_index"], 0) or 0,
        pane_id=f["pane_id"],
        cwd=cwd,
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
        current_command=_command_name(facts),
        process=facts.process if facts else None,
        is_shell=facts.is_shell if facts else not f["pane_start_command"],
        program=facts.program if facts else None,
        stopped=facts.stopped if facts else False,
        job=facts.job if facts else (),
    )


def _command_name(facts: PaneProcesses | None) -> str:
    """What tmux calls `pane_current_command`: the foreground program's name."""
    program = (facts.program or facts.process) if facts else None
    name = os.path.basename(program.argv[0]) if program and program.argv else ""
    return name[1:] if name.startswith("-") else name  # a login shell's `-bash`
