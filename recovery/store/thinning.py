"""Thinning a session's history when the disk is nearly full: only the newest checkpoint
that verifies is kept (and the newest healthy one, a rebuild's preferred source, when it
is another). A file that fails verification on the way is quarantined as on any read."""

from __future__ import annotations

import contextlib
from pathlib import Path

from recovery.store.checkpoint_store import CheckpointStore
from recovery.store.entries import entries_in


def thin_session(store: CheckpointStore, session_dir: Path) -> list[str]:
    """Delete every checkpoint of one session but the ones kept; return the deleted ids.
    Caller holds the lock. A session none of whose checkpoints verifies loses nothing."""
    entries = entries_in(session_dir)
    newest = store.first_verified(entries)
    if newest is None:
        return []
    keep = {newest.entry.id}
    if not newest.checkpoint.healthy:
        healthy = store.first_verified(
            entries_in(session_dir), accept=lambda found: found.checkpoint.healthy
        )
        if healthy is not None:
            keep.add(healthy.entry.id)
    deleted = []
    for entry in entries_in(session_dir):
        if entry.id in keep:
            continue
        with contextlib.suppress(FileNotFoundError):
            entry.path.unlink()
            deleted.append(entry.id)
    return deleted
