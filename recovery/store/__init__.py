"""The checkpoint store: checkpoints on disk, written atomically under one lock, listed,
verified on every read, quarantined when bad, pruned by retention; and each server's
restore set (its manifest)."""

from recovery.store.checkpoint_store import CheckpointStore
from recovery.store.entries import CheckpointEntry, CheckpointNotFoundError
from recovery.store.integrity import BadCheckpoint, UntrustedStoreError, describe_bad
from recovery.store.keys import (
    new_checkpoint_id,
    parse_checkpoint_id,
    server_key,
    session_key,
    session_name_from_key,
)
from recovery.store.locking import StoreBusyError
from recovery.store.manifest import ServerManifest

__all__ = [
    "BadCheckpoint",
    "CheckpointEntry",
    "CheckpointNotFoundError",
    "CheckpointStore",
    "ServerManifest",
    "StoreBusyError",
    "UntrustedStoreError",
    "describe_bad",
    "new_checkpoint_id",
    "parse_checkpoint_id",
    "server_key",
    "session_key",
    "session_name_from_key",
]
