"""The one-time move to signed checkpoints: every checkpoint of the schema before signing
that verifies by checksum and belongs to the person (owned by them, private) is signed
with their key, once; afterwards an unsigned checkpoint is foreign, whoever owns it."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from recovery.checkpoint import CheckpointError, encode_checkpoint
from recovery.files import StoreWriteError, atomic_write
from recovery.may_run import Trust
from recovery.store.checkpoint_store import MIGRATED_MARKER, CheckpointStore


def resign_legacy(store: CheckpointStore) -> int:
    """Sign the person's unsigned checkpoints; returns how many. Caller holds the lock.
    A read-only store, or one already moved, is left as it is."""
    marker = store.root / MIGRATED_MARKER
    if store.read_only or marker.exists():
        return 0
    key = store.keys.for_writing()
    signed = 0
    for entry in store.entries():
        with contextlib.suppress(CheckpointError):
            found = store.load_verified(entry)
            if found.trust is Trust.OWN:
                data = encode_checkpoint(found.checkpoint, key)
                if data != entry.path.read_bytes():
                    atomic_write(entry.path, data)
                    signed += 1
    with contextlib.suppress(StoreWriteError):
        atomic_write(marker, f"{datetime.now(UTC).isoformat()}\n".encode())
    return signed
