"""Checkpoint files as entries: known by path and id; their content is trusted only once
loaded and verified."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from recovery.store.keys import parse_checkpoint_id


class CheckpointNotFoundError(Exception):
    pass


@dataclass(frozen=True)
class CheckpointEntry:
    """A checkpoint file, known by path; its content is only trusted once loaded."""

    id: str
    path: Path
    server_key: str
    session_key: str
    created_at: datetime


def entry_for(path: Path) -> CheckpointEntry | None:
    """The entry of a file named like a checkpoint (`<id>.json`), else None."""
    created = parse_checkpoint_id(path.stem)
    if created is None or path.name.startswith("."):
        return None
    return CheckpointEntry(
        id=path.stem,
        path=path,
        server_key=path.parent.parent.name,
        session_key=path.parent.name,
        created_at=created,
    )


def entries_in(session_dir: Path) -> list[CheckpointEntry]:
    """One session's checkpoint files, newest first."""
    found = [e for e in map(entry_for, session_dir.glob("*.json")) if e is not None]
    found.sort(key=lambda e: (e.created_at, e.id), reverse=True)
    return found
