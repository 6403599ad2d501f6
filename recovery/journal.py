"""The recovery journal: every verdict change and action, one JSON line each, fsynced."""

from __future__ import annotations

import contextlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from recovery.files import PRIVATE_FILE, ensure_private_dir
from recovery.reading import read_bounded

MAX_BYTES = 2 * 1024 * 1024
MAX_READ = 64 * 1024 * 1024
"""A journal file past this was not written by us: it is not read."""
KEEP_ROTATED = 3


class JournalEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    server: str
    session: str
    kind: str
    """verdict | action | note"""
    health: str | None = None
    evidence: tuple[str, ...] = ()
    action: str | None = None
    outcome: str | None = None
    duration_ms: float | None = None
    detail: dict[str, Any] | None = None


class Journal:
    def __init__(self, root: Path) -> None:
        self.path = root / "journal.jsonl"

    def append(self, entry: JournalEntry) -> None:
        self.append_many([entry])

    def append_many(self, entries: list[JournalEntry]) -> None:
        """One write and one fsync for all of them (a restore of 50 sessions is one event)."""
        if not entries:
            return
        ensure_private_dir(self.path.parent)
        self._rotate_if_large()
        data = b"".join(e.model_dump_json(exclude_none=True).encode() + b"\n" for e in entries)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(self.path, flags, PRIVATE_FILE)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def record(self, server: str, session: str, kind: str, **fields: Any) -> JournalEntry:
        entry = JournalEntry(
            at=datetime.now(UTC), server=server, session=session, kind=kind, **fields
        )
        self.append(entry)
        return entry

    def read(self, limit: int | None = None, session: str | None = None) -> list[JournalEntry]:
        """Newest last. Unreadable lines (a torn write after a crash) are skipped."""
        entries: list[JournalEntry] = []
        for path in [*reversed(self._rotated()), self.path]:
            with contextlib.suppress(OSError):
                data, _facts = read_bounded(path, MAX_READ)
                for line in data.splitlines():
                    try:
                        entry = JournalEntry.model_validate(json.loads(line))
                    except (ValueError, ValidationError, RecursionError):
                        continue
                    if session is None or entry.session == session:
                        entries.append(entry)
        return entries[-limit:] if limit else entries

    def _rotated(self) -> list[Path]:
        return [self.path.with_suffix(f".{n}.jsonl") for n in range(1, KEEP_ROTATED + 1)]

    def _rotate_if_large(self) -> None:
        try:
            if self.path.stat().st_size < MAX_BYTES:
                return
        except FileNotFoundError:
            return
        rotated = self._rotated()
        for older, newer in zip(reversed(rotated[1:]), reversed(rotated[:-1]), strict=True):
            with contextlib.suppress(FileNotFoundError):
                os.replace(newer, older)
        os.replace(self.path, rotated[0])
