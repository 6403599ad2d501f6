"""What the UI shows of one session: its panes and how they differ from its newest
checkpoint, its checkpoints with their verification, and the recovery history."""

from __future__ import annotations

from guardian.operations.engine import Engine
from guardian.view.rows import (
    CheckpointRow,
    HistoryRow,
    PaneBox,
    PaneRow,
    SessionDetail,
    SessionRow,
    WindowLayout,
)
from recovery.checkpoint import CheckpointError
from recovery.diff import describe_program, diff_sessions
from recovery.journal import Journal
from recovery.models import ServerState, SessionState


def layout_of(session: SessionState) -> tuple[WindowLayout, ...]:
    """Its windows as boxes to draw: geometry as tmux reports it, program, directory."""
    return tuple(
        WindowLayout(
            w.index,
            w.name,
            w.width,
            w.height,
            w.active,
            tuple(
                PaneBox(
                    p.index,
                    p.left,
                    p.top,
                    p.width,
                    p.height,
                    describe_program(p),
                    p.cwd,
                    p.active,
                    p.dead,
                )
                for p in w.panes
            ),
        )
        for w in session.windows
    )


def session_detail(engine: Engine, state: ServerState | None, row: SessionRow) -> SessionDetail:
    session = state.session(row.name) if state is not None else None
    panes: list[PaneRow] = []
    if session is not None:
        for w in session.windows:
            for p in w.panes:
                panes.append(
                    PaneRow(
                        f"{w.index}:{w.name}",
                        str(p.index),
                        p.cwd,
                        describe_program(p),
                        p.dead,
                        p.active,
                    )
                )
    saved = engine.store.newest_verified(row.socket_path, row.name)
    differences: tuple[str, ...] = ()
    if saved is not None and session is not None:
        differences = tuple(diff_sessions(session, saved.session))
    elif saved is None:
        differences = ("no checkpoint yet",)
    else:
        differences = ("not running; the checkpoint can rebuild it",)
    layout = layout_of(session) if session is not None else ()
    return SessionDetail(row, tuple(panes), differences, saved.id if saved else None, layout)


def checkpoint_rows(engine: Engine, row: SessionRow) -> list[CheckpointRow]:
    store = engine.store
    rows = []
    for entry in store.entries(row.socket_path, row.name):
        try:
            cp = store.load(entry)
        except CheckpointError as exc:
            rows.append(
                CheckpointRow(entry.id, entry.created_at.timestamp(), False, error=str(exc))
            )
            continue
        rows.append(
            CheckpointRow(
                cp.id,
                cp.created_at.timestamp(),
                True,
                len(cp.session.windows),
                cp.session.pane_count,
                cp.reason,
                layout=layout_of(cp.session),
            )
        )
    return rows


def history_rows(engine: Engine, session: str | None, limit: int) -> list[HistoryRow]:
    rows = []
    for e in reversed(Journal(engine.state_dir).read(limit=limit, session=session)):
        what = e.action or (f"{e.health}" if e.health else e.kind)
        if e.evidence and not e.action:
            what += f": {'; '.join(e.evidence)}"
        outcome = e.outcome or ""
        ok = None if not outcome else not outcome.startswith("failed")
        rows.append(HistoryRow(e.at.timestamp(), e.session, what, outcome, ok, e.kind, e.health))
    return rows
