"""What one poll saw of one server, and what the classifier remembers between polls."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from recovery.models import ServerState


class ClosedEvent(BaseModel):
    """A line the `session-closed` hook appended: a session ended while tmux was running."""

    model_config = ConfigDict(frozen=True)

    at: float
    session_id: str
    name: str


class ServerProbe(BaseModel):
    """One poll of one server: its answer (or why none), and process facts from /proc."""

    model_config = ConfigDict(frozen=True)

    socket_path: str
    state: ServerState | None = None
    error: str | None = None
    """None, or one of: absent (no socket file), not_running (nobody listens),
    not_answering (timeout), failed (tmux said something else)."""
    message: str = ""
    socket_exists: bool = True
    listeners: tuple[int, ...] = ()
    """Pids of tmux servers listening on this socket path (found through /proc/net/unix,
    which keeps showing the path after the file was deleted)."""
    process_state: dict[int, str] = Field(default_factory=dict)
    """Kernel state letter (R, S, T, Z...) of the server pids above and the remembered one."""
    process_cpu: dict[int, float] = Field(default_factory=dict)
    """CPU seconds used so far by those pids (read when the server does not answer)."""
    foreign_binary: str | None = None
    """The server runs a binary other than the installed tmux (upgraded since it started)."""
    closed: tuple[ClosedEvent, ...] = ()
    at: float = 0.0


class PaneMemory(BaseModel):
    """What a pane was while alive: needed once it is dead (its pid and argv are gone)."""

    model_config = ConfigDict(frozen=True)

    is_shell: bool
    argv: tuple[str, ...] | None
    cwd: str
    exe: str | None = None


class ServerMemory(BaseModel):
    """The classifier's memory of one server across polls. Replaced, never mutated."""

    model_config = ConfigDict(frozen=True)

    last_ok_at: float | None = None
    pid: int | None = None
    sessions: dict[str, str] = Field(default_factory=dict)
    """session id -> name, from the last good read."""
    missing: dict[str, int | None] = Field(default_factory=dict)
    """Sessions that vanished with a server since replaced and are not back yet -> the pid
    of the server they vanished with. They stay crashed, and are retried, until back."""
    timeouts: int = 0
    silent_since: tuple[float, float] | None = None
    """When the server first did not answer, and its CPU seconds then (its progress)."""
    stopped_on_purpose: str | None = None
    """Evidence of a deliberate shutdown, kept until the server answers again."""
    panes: dict[str, PaneMemory] = Field(default_factory=dict)
    stopped_since: dict[str, float] = Field(default_factory=dict)
    xoff: dict[str, tuple[int, int, int, float]] = Field(default_factory=dict)
    """pane id -> (history size, cursor x, cursor y, since when unchanged)."""
    reaping: dict[str, int] = Field(default_factory=dict)
    """pane id -> polls its exit status has been lost (tmux not reaped it yet)."""

    @property
    def pending(self) -> bool:
        """Something seen that only a further full read can judge: a pane stopped or
        silent (XOFF) not long enough yet, an exit tmux has yet to record."""
        return bool(self.stopped_since or self.xoff or self.reaping)
