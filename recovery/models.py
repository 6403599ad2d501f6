"""State of a tmux server as read by the adapter: servers, sessions, windows, panes, programs.

Pure data. Live ids (`$N @N %N`) are recorded for reference only: they change after a
restore, so nothing is matched on them across servers.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

INTERPRETERS = frozenset(
    {"sh", "bash", "dash", "zsh", "python", "python3", "node", "perl", "ruby", "bun", "deno"}
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProgramState(_Frozen):
    """A process: its full argv, pid and start time (pid + start time identify it uniquely)."""

    argv: tuple[str, ...]
    pid: int
    started_at: float
    exe: str | None = None
    """Real path of the executable that ran (`/proc/PID/exe`): argv is only a claim (a
    program may rename itself with `exec -a`); this is what actually ran."""
    env: tuple[tuple[str, str], ...] = ()
    """Variables it got beyond its shell's (`LESS=-R less f`, `env VAR=x ...`, or exported
    in the shell before it started). Only allowlisted names come back."""
    withheld: tuple[str, ...] = ()
    """Names of variables with secrets (tokens, keys, passwords): never saved."""
    nohup: bool = False
    """Started with SIGHUP ignored (`nohup`): comes back with `nohup`."""

    @property
    def name(self) -> str:
        return self.argv[0].rsplit("/", 1)[-1].lstrip("-") if self.argv else ""

    @property
    def names(self) -> set[str]:
        """Its name, and the script's when it is an interpreter running one (`sh vault`)."""
        found = {self.name}
        if len(self.argv) > 1 and self.name in INTERPRETERS and not self.argv[1].startswith("-"):
            found.add(self.argv[1].rsplit("/", 1)[-1])
        return found


FoundBy = Literal["exact", "argv", "guess"]


class Resume(_Frozen):
    """How a program comes back where it was, as its program strategy captured it while it
    ran (`recovery.programs`): an agent's conversation, an editor's session file."""

    strategy: str
    """The strategy's name: `claude`, `codex`, `vim`, or a `[[programs]]` entry's."""
    session_id: str | None = None
    """The conversation (or session) it ran; None when there is none to resume yet."""
    found_by: FoundBy | None = None
    """How the id was found: `exact` (the tool's own record of this process), `argv`
    (given on its command line), `guess` (the newest of its directory no other pane has)."""
    cwd: str = ""
    """The program's real working directory (agents look for their conversations there)."""
    argv: tuple[str, ...] = ()
    """The person's command line without old resume options (`claude --model x`)."""
    started_at: float = 0.0
    file: str | None = None
    """A session file the program loads (`Session.vim`), and its SHA-256 when captured:
    loaded again only if it is the person's and unchanged."""
    file_sha256: str | None = None
    note: str = ""
    """Why there is nothing to resume (`no conversation yet`)."""


class PaneChoice(_Frozen):
    """How a person chose this pane comes back, made after seeing the exact command."""

    mode: Literal["run", "hold", "shell"]
    command: str
    """The command line the choice was made for: a different command is not chosen."""


class PaneState(_Frozen):
    """One pane: geometry, directory, title, liveness and what runs in it."""

    index: int
    pane_id: str
    cwd: str
    title: str
    active: bool
    width: int
    height: int
    left: int
    top: int
    dead: bool = False
    dead_status: int | None = None
    dead_signal: int | None = None
    in_mode: bool = False
    start_command: str = ""
    current_command: str = ""
    process: ProgramState | None = None
    """The pane's own process (tmux's `pane_pid`); None when it could not be read."""
    is_shell: bool = True
    """The pane's own process is an interactive shell (not a program started as its command)."""
    program: ProgramState | None = None
    """The program in the foreground: one started from the shell, or the pane's own command."""
    stopped: bool = False
    """The foreground process group is stopped (state T)."""
    input_off: bool = False
    history_size: int = 0
    cursor: tuple[int, int] = (0, 0)
    foreground_group: int | None = None
    """The tty's foreground process group (tpgid): what SIGCONT must reach."""
    writer_blocked: bool = False
    """The foreground program sleeps inside write() on the tty (XOFF, or a slow reader)."""
    written_bytes: int | None = None
    """Bytes the blocked writer has written so far: unchanged across polls = XOFF."""
    job: tuple[ProgramState, ...] = ()
    """Every process of the foreground job in pipeline order, when there is more than
    one or a stage has wrappers (`program` is the first); empty otherwise."""
    typed_commands: tuple[str, ...] = ()
    """Shell text from an import (tmuxp `shell_command`, a resurrect command line), kept as
    written: never split into argv and joined again."""
    choice: PaneChoice | None = None
    environment: tuple[tuple[str, str], ...] = ()
    """Variables the pane is started with (`split-window -e`): a tmuxp workspace's pane or
    window `environment`. Never read from a live pane (it would hold secrets)."""
    resume: Resume | None = None
    """How the foreground program comes back where it was (a program strategy's capture)."""

    @property
    def geometry(self) -> tuple[int, int, int, int]:
        return (self.left, self.top, self.width, self.height)


class WindowState(_Frozen):
    index: int
    window_id: str
    name: str
    width: int
    height: int
    layout: str
    active: bool
    zoomed: bool = False
    automatic_rename: bool = False
    options: tuple[tuple[str, str], ...] = ()
    """Window options to set before its layout (a tmuxp workspace's `options`)."""
    options_after: tuple[tuple[str, str], ...] = ()
    """... and once its panes are running (tmuxp's `options_after`: synchronize-panes)."""
    panes: tuple[PaneState, ...]

    @property
    def active_pane(self) -> PaneState | None:
        return next((pane for pane in self.panes if pane.active), None)


class SessionState(_Frozen):
    session_id: str
    name: str
    created: int
    attached: int = 0
    group: str = ""
    """Its tmux session group (sessions sharing their windows: `new-session -t`), or ""."""
    environment: tuple[tuple[str, str], ...] = ()
    """The session's environment as an import gave it (a tmuxp workspace's `environment`);
    never read from a live session (it would hold secrets)."""
    options: tuple[tuple[str, str], ...] = ()
    """Session options to set before its panes start (a tmuxp workspace's `options`)."""
    global_options: tuple[tuple[str, str], ...] = ()
    """Options an import sets for the whole server (a tmuxp workspace's `global_options`)."""
    windows: tuple[WindowState, ...]

    @property
    def pane_count(self) -> int:
        return sum(len(window.panes) for window in self.windows)

    @property
    def active_window(self) -> WindowState | None:
        return next((window for window in self.windows if window.active), None)


class ServerInfo(_Frozen):
    """Which tmux server: the socket path identifies it; pid and version describe it."""

    socket_path: str
    pid: int | None = None
    version: str = ""


class ServerState(_Frozen):
    """One complete read of a server."""

    server: ServerInfo
    sessions: tuple[SessionState, ...]
    read_at: float
    unreadable: tuple[str, ...] = ()
    """Ids of sessions left out because a window name, title or path held a separator."""

    def session(self, name: str) -> SessionState | None:
        return next((s for s in self.sessions if s.name == name), None)
