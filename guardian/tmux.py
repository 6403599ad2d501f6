"""TmuxAdapter: the only code that runs tmux. Every call is bounded by a timeout and fails
with a typed error; a whole server is read in one `list-panes -a` round trip."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from guardian.errors import (
    ReadError,
    ServerAbsentError,
    ServerNotAnsweringError,
    ServerNotRunningError,
    TmuxCommandError,
    TmuxError,
    TmuxMissingError,
)
from guardian.probes import probe_pane
from guardian.targets import ServerTarget
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


def tmux_arg(value: str) -> str:
    """Protect one argument of a tmux command list: a trailing `;` would end the command."""
    return value[:-1] + "\\;" if value.endswith(";") else value


def format_literal(value: str) -> str:
    """Text for an argument tmux expands as a format (-s -n -c -T): `#` must not start one."""
    return value.replace("#", "##")


_UNVIS_SIMPLE = {
    "\\": "\\",
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "a": "\a",
    "v": "\v",
    "f": "\f",
}


def vis_session_name(name: str) -> str:
    """A name as a person types it, in the form tmux stores and reports it."""
    out: list[str] = []
    for char in name:
        if char == "\\":
            out.append("\\\\")
        elif char in "\n\t\r\b\a\v\f":
            out.append("\\" + next(k for k, v in _UNVIS_SIMPLE.items() if v == char))
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\{ord(char):03o}")
        else:
            out.append(char)
    return "".join(out)


def unvis_session_name(name: str) -> str:
    """The name to pass to `new-session -s` so that tmux stores `name` again.

    tmux keeps session names vis(3)-encoded (C-style, octal): a backslash is stored as two,
    a control character as `\\ooo`. Passing the stored form back would encode it twice.
    """
    if "\\" not in name:
        return name
    out: list[str] = []
    i = 0
    while i < len(name):
        char = name[i]
        if char != "\\" or i + 1 == len(name):
            out.append(char)
            i += 1
            continue
        nxt = name[i + 1]
        if nxt in _UNVIS_SIMPLE:
            out.append(_UNVIS_SIMPLE[nxt])
            i += 2
            continue
        digits = ""
        while (
            len(digits) < 3
            and i + 1 + len(digits) < len(name)
            and name[i + 1 + len(digits)] in "01234567"
        ):
            digits += name[i + 1 + len(digits)]
        if digits:
            out.append(chr(int(digits, 8)))
            i += 1 + len(digits)
        else:
            out.append(nxt)
            i += 2
    return "".join(out)


def command_list(commands: Iterable[Sequence[str]]) -> list[str]:
    """Join commands into one argv for a single tmux invocation, separated by `;`."""
    argv: list[str] = []
    for command in commands:
        if argv:
            argv.append(";")
        argv.extend(tmux_arg(part) for part in command)
    return argv


@dataclass(frozen=True)
class RawPane:
    fields: dict[str, str]


class TmuxAdapter:
    """Talks to one tmux server, named by its socket path."""

    def __init__(
        self, target: ServerTarget, *, timeout: float = 2.0, binary: str | None = None
    ) -> None:
        self.target = target
        self.timeout = timeout
        self.binary = binary or os.environ.get("TMUX_GUARDIAN_TMUX") or "tmux"

    # -- running -------------------------------------------------------------------------

    def run(self, args: Sequence[str], *, timeout: float | None = None) -> str:
        """Run one tmux invocation; return stdout or raise a typed TmuxError."""
        argv = [self.binary, "-S", self.target.socket_path, *args]
        env = dict(os.environ)
        env.pop("TMUX", None)  # never let a nesting check or $TMUX pick another server
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                timeout=timeout if timeout is not None else self.timeout,
                env=env,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except FileNotFoundError:
            raise TmuxMissingError(
                f"tmux is not installed: no '{self.binary}' on PATH "
                "(install it with your package manager, e.g. apt-get install tmux)"
            ) from None
        except PermissionError:
            raise TmuxMissingError(f"cannot run '{self.binary}': permission denied") from None
        except subprocess.TimeoutExpired:
            raise ServerNotAnsweringError(
                f"tmux server at {self.target.socket_path} did not answer within "
                f"{timeout if timeout is not None else self.timeout:g} s"
            ) from None
        stdout = done.stdout.decode("utf-8", errors="surrogateescape")
        if done.returncode != 0:
            raise self._error(done.stderr.decode("utf-8", errors="replace").strip(), stdout)
        return stdout

    def run_commands(
        self, commands: Iterable[Sequence[str]], *, timeout: float | None = None
    ) -> str:
        """Run several tmux commands in ONE invocation (tmux stops at the first that fails)."""
        return self.run(command_list(commands), timeout=timeout)

    def _error(self, stderr: str, stdout: str) -> TmuxError:
        path = self.target.socket_path
        first = stderr.splitlines()[0] if stderr else "tmux failed without a message"
        if first.startswith("no server running on"):
            return ServerNotRunningError(f"no tmux server running on {path}")
        if first.startswith("error connecting to") and "No such file" in first:
            return ServerAbsentError(f"no tmux server at {path} (no socket file)")
        if first.startswith("error connecting to"):
            return ServerNotRunningError(f"cannot connect to tmux server at {path}: {first}")
        if first.startswith("server exited unexpectedly"):
            return ServerNotRunningError(f"tmux server at {path} exited unexpectedly")
        return TmuxCommandError(first, stdout=stdout)

    @staticmethod
    def available(binary: str = "tmux") -> bool:
        return shutil.which(binary) is not None

    # -- reading -------------------------------------------------------------------------

    def read_server(self, *, probe_processes: bool = True) -> ServerState:
        """The whole server in one round trip, plus per-pane process facts from /proc."""
        try:
            output = self.run(["list-panes", "-a", "-F", PANE_FORMAT])
        except TmuxCommandError as exc:
            if str(exc) != "no current target":
                raise
            output = ""  # a live server with no sessions (exit-empty off)
        rows, unreadable = parse_pane_records(output)
        state = build_server_state(
            self.target.socket_path, rows, probe_processes=probe_processes, read_at=time.time()
        )
        if unreadable:
            state = state.model_copy(update={"unreadable": tuple(unreadable)})
        return state

    def capture_contents(self, pane_ids: Sequence[str], lines: int) -> dict[str, str]:
        """Visible text plus up to `lines` of scrollback of each pane, in one invocation."""
        if not pane_ids:
            return {}
        marker = f"\x1e{os.urandom(8).hex()}"
        commands: list[list[str]] = []
        for pane_id in pane_ids:
            commands.append(["capture-pane", "-p", "-J", "-S", f"-{lines}", "-t", pane_id])
            commands.append(["display-message", "-p", "-t", pane_id, f"{marker}{pane_id}"])
        output = self.run_commands(commands, timeout=max(self.timeout, 5.0))
        captured: dict[str, str] = {}
        rest = output
        for pane_id in pane_ids:
            end = f"{marker}{pane_id}\n"
            text, _, rest = rest.partition(end)
            captured[pane_id] = text.rstrip("\n")
        return captured


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
    sessions: dict[str, dict[str, object]] = {}
    windows: dict[tuple[str, str], dict[str, object]] = {}
    server = ServerInfo(socket_path=socket_path)
    for row in rows:
        f = row.fields
        server = ServerInfo(socket_path=socket_path, pid=_int(f["pid"]), version=f["version"])
        session = sessions.setdefault(
            f["session_id"],
            {
                "session_id": f["session_id"],
                "name": f["session_name"],
                "created": _int(f["session_created"], 0),
                "attached": _int(f["session_attached"], 0),
                "windows": [],
            },
        )
        key = (f["session_id"], f["window_id"])
        window = windows.get(key)
        if window is None:
            window = {
                "index": _int(f["window_index"], 0),
                "window_id": f["window_id"],
                "name": f["window_name"],
                "width": _int(f["window_width"], 0),
                "height": _int(f["window_height"], 0),
                "layout": f["window_layout"],
                "active": f["window_active"] == "1",
                "zoomed": f["window_zoomed_flag"] == "1",
                "automatic_rename": f["automatic-rename"] in ("1", "on"),
                "panes": [],
            }
            windows[key] = window
            session["windows"].append(window)  # type: ignore[attr-defined]
        window["panes"].append(_pane(f, probe_processes))  # type: ignore[attr-defined]
    states = tuple(
        SessionState(
            session_id=str(s["session_id"]),
            name=str(s["name"]),
            created=int(s["created"]),  # type: ignore[call-overload]
            attached=int(s["attached"]),  # type: ignore[call-overload]
            windows=tuple(
                WindowState(**{**w, "panes": tuple(w["panes"])})  # type: ignore[arg-type, dict-item]
                for w in s["windows"]  # type: ignore[attr-defined]
            ),
        )
        for s in sessions.values()
    )
    return ServerState(server=server, sessions=states, read_at=read_at)


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
    )
