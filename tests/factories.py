"""Small builders of state models for tests that need no tmux."""

from __future__ import annotations

from datetime import UTC, datetime

from recovery.checkpoint import Checkpoint
from recovery.models import PaneState, ProgramState, ServerInfo, SessionState, WindowState
from recovery.store import new_checkpoint_id
from recovery.structure import structure_key


def pane(index: int = 0, *, program: tuple[str, ...] | None = None, **kw: object) -> PaneState:
    values: dict[str, object] = {
        "index": index,
        "pane_id": f"%{index}",
        "cwd": "/tmp",
        "title": "t",
        "active": index == 0,
        "width": 80,
        "height": 24,
        "left": 0,
        "top": 0,
        "program": ProgramState(argv=program, pid=999_999, started_at=1.0) if program else None,
    }
    values.update(kw)
    return PaneState.model_validate(values)


def session(name: str = "work", panes: int = 1, **pane_kw: object) -> SessionState:
    return SessionState(
        session_id="$1",
        name=name,
        created=1,
        windows=(
            WindowState(
                index=0,
                window_id="@1",
                name="w",
                width=80,
                height=24,
                layout="b25f,80x24,0,0,0",
                active=True,
                panes=tuple(pane(i, **pane_kw) for i in range(panes)),
            ),
        ),
    )


def checkpoint(
    state: SessionState | None = None,
    *,
    when: datetime | None = None,
    socket_path: str = "/tmp/tg-test/s",
) -> Checkpoint:
    state = state or session()
    when = when or datetime.now(UTC)
    return Checkpoint(
        id=new_checkpoint_id(when),
        created_at=when,
        server=ServerInfo(socket_path=socket_path, pid=1, version="3.3a"),
        session=state,
        structure=structure_key(state),
    )
