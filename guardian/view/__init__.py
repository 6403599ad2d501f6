"""The UI's view of the engine: one service object answering with plain rows; the TUI
never runs tmux, reads a checkpoint or touches the state dir itself."""

from guardian.errors import ServiceError
from guardian.view.engine_service import EngineService
from guardian.view.rows import (
    CheckpointRow,
    HistoryRow,
    Overview,
    PaneBox,
    PaneRow,
    RestorePreview,
    SessionDetail,
    SessionRow,
    WindowLayout,
)
from recovery.plan import PaneComeback

__all__ = [
    "CheckpointRow",
    "EngineService",
    "HistoryRow",
    "Overview",
    "PaneBox",
    "PaneComeback",
    "PaneRow",
    "RestorePreview",
    "ServiceError",
    "SessionDetail",
    "SessionRow",
    "WindowLayout",
]
