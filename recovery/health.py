"""Verdicts: what is wrong with a session, with the evidence, and the facts a strategy needs."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from recovery.models import ProgramState


class Health(StrEnum):
    HEALTHY = "healthy"
    CRASHED = "crashed"
    FROZEN = "frozen"
    CORRUPTED = "corrupted"
    DISCONNECTED = "disconnected"
    STOPPED = "server stopped"
    """The server was shut down on purpose: not rebuilt by a running watcher."""


FAILURES = frozenset({Health.CRASHED, Health.FROZEN, Health.CORRUPTED, Health.DISCONNECTED})


class FrozenKind(StrEnum):
    SERVER_STOPPED = "server stopped (SIGSTOP)"
    SERVER_UNRESPONSIVE = "server not answering"
    PANE_STOPPED = "pane program stopped"
    XOFF = "pane output stopped by XOFF"


class DisconnectKind(StrEnum):
    SOCKET_MISSING = "socket file missing"
    SPLIT_BRAIN = "another server owns the socket path"
    VERSION_MISMATCH = "server runs another tmux version"


class PaneIssue(BaseModel):
    """A dead pane: where it is, why it died, and how to start it again."""

    model_config = ConfigDict(frozen=True)

    pane_id: str
    window_index: int
    pane_index: int
    reason: str
    cwd: str
    program: ProgramState | None = None
    """What ran in the pane as it died (the watcher's memory of it)."""
    is_shell: bool = True
    """The pane's own process was an interactive shell: respawning it brings the shell."""
    lost_status: bool = False


class Verdict(BaseModel):
    """One session's health after one poll."""

    model_config = ConfigDict(frozen=True)

    server: str
    session: str
    health: Health
    evidence: tuple[str, ...] = ()
    session_id: str | None = None
    attached: bool = False
    server_pid: int | None = None
    frozen: FrozenKind | None = None
    disconnect: DisconnectKind | None = None
    damaged_panes: tuple[PaneIssue, ...] = ()
    closable_panes: tuple[str, ...] = ()
    """Dead panes a person ended (exit 0, Ctrl-C, SIGTERM, a shell's exit): closed as tmux
    would have closed them."""
    reaping_panes: tuple[str, ...] = ()
    """Dead panes whose exit status tmux has not reaped yet: a state, not yet a verdict
    (the server is asked to reap them; their death is judged once it has)."""
    stopped_groups: tuple[int, ...] = ()
    xoff_panes: tuple[str, ...] = ()
    other_pid: int | None = None
    """Split brain: the server that now owns the socket path."""
    binary: str | None = None
    """Version mismatch: the binary the server runs (`/proc/PID/exe`)."""

    @property
    def is_failure(self) -> bool:
        return self.health in FAILURES

    @property
    def key(self) -> tuple[str, str]:
        return (self.server, self.session)
