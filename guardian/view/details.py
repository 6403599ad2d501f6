"""What the UI shows of one session: its panes and how they differ from its newest
checkpoint, its checkpoints with their verification, and the recovery history."""

from __future__ import annotations

from guardian.operations.engine import Engine
from guardian.view.rows import CheckpointRow, HistoryRow, PaneRow, SessionDetail, SessionRow
from recovery.checkpoint import CheckpointError
from recovery.diff import describe_program, diff_sessions
from recovery.journal import Journal
from recovery.models import ServerState


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
    return SessionDetail(row, tuple(panes), differences, saved.id if saved else None)


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
        rows.append(HistoryRow(e.at.timestamp(), e.session, what, outcome, ok))
    return rows
