"""What the UI shows, as plain frozen rows: the UI never sees a model of tmux, only these."""

from __future__ import annotations

from dataclasses import dataclass

from recovery.plan import PaneComeback


@dataclass(frozen=True)
class SessionRow:
    server: str
    socket_path: str
    name: str
    health: str
    evidence: tuple[str, ...] = ()
    attached: bool = False
    windows: int = 0
    panes: int = 0
    paused: bool = False
    given_up: str | None = None
    last_checkpoint_at: float | None = None
    last_recovery: str | None = None
    as_of: float | None = None
    """When its server last answered, if it does not answer now: what is shown of the
    session (windows, panes) is as of then, not live."""
    stale: str = ""
    """Why it is not live (`server does not answer: timed out after 2 s`)."""

    @property
    def key(self) -> tuple[str, str]:
        return (self.socket_path, self.name)


@dataclass(frozen=True)
class PaneRow:
    window: str
    pane: str
    cwd: str
    program: str
    dead: bool
    active: bool
    comeback: str = ""
    """How it comes back from the session's newest checkpoint (`claude: resumes ...`)."""


@dataclass(frozen=True)
class PaneBox:
    """A pane where tmux puts it (cells, as tmux reports them), and what runs in it."""

    index: int
    left: int
    top: int
    width: int
    height: int
    program: str
    cwd: str
    active: bool = False
    dead: bool = False


@dataclass(frozen=True)
class WindowLayout:
    """A window's panes to draw: its size and each pane's box."""

    index: int
    name: str
    width: int
    height: int
    active: bool
    panes: tuple[PaneBox, ...]


@dataclass(frozen=True)
class SessionDetail:
    row: SessionRow
    panes: tuple[PaneRow, ...]
    differences: tuple[str, ...]
    checkpoint_id: str | None
    layout: tuple[WindowLayout, ...] = ()
    """Its windows as last read (live, or as of `row.as_of`)."""


@dataclass(frozen=True)
class CheckpointRow:
    id: str
    created_at: float
    verified: bool
    windows: int = 0
    panes: int = 0
    reason: str = ""
    error: str = ""
    layout: tuple[WindowLayout, ...] = ()
    """The windows it holds (what a restore from it builds)."""


@dataclass(frozen=True)
class HistoryRow:
    at: float
    session: str
    what: str
    outcome: str
    ok: bool | None
    kind: str = ""
    """The journal's: `verdict` (a health change), `action` (a recovery, a person's
    action) or `note`."""
    health: str | None = None


@dataclass(frozen=True)
class Overview:
    sessions: tuple[SessionRow, ...]
    guard: str
    """Who guards: "this window guards ..." or "watcher pid N, last poll 0.4 s ago"."""
    problems: tuple[str, ...] = ()
    at: float = 0.0


@dataclass(frozen=True)
class RestorePreview:
    """What a restore would build (its plan's lines) and each pane's come-back, which a
    person may change (run, hold, shell) before saying yes."""

    lines: tuple[str, ...]
    panes: tuple[PaneComeback, ...]
