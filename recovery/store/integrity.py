"""Files that must not be used: a checkpoint that fails verification is moved to
`quarantine/` with its reason beside it (never deleted: a person may want to look); a
store another user could write is refused."""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from recovery.files import StoreWriteError, atomic_write, ensure_private_dir
from recovery.state_dir import UntrustedStoreError
from recovery.store.entries import CheckpointEntry

__all__ = ["BadCheckpoint", "UntrustedStoreError", "check_trusted", "describe_bad", "quarantine"]


@dataclass(frozen=True)
class BadCheckpoint:
    entry: CheckpointEntry
    reason: str
    moved_to: Path | None
    dry_run: bool = False
    skipped: bool = False
    """Not damaged, only not for this version (written by a newer tmux-guardian)."""


def describe_bad(bad: BadCheckpoint) -> str:
    if bad.skipped:
        return f"checkpoint {bad.entry.id} {bad.reason}"
    if bad.dry_run:
        where = "would be moved to quarantine/"
    else:
        where = f"moved to {bad.moved_to}" if bad.moved_to else "could not be moved"
    return f"checkpoint {bad.entry.id} refused: {bad.reason} ({where})"


def quarantine(quarantine_dir: Path, entry: CheckpointEntry, reason: str) -> BadCheckpoint:
    """Move a bad file out of the way, with a `.reason` file beside it. A link is moved
    as the link it is (os.replace never follows the name it moves)."""
    target_dir = quarantine_dir / entry.server_key / entry.session_key
    try:
        ensure_private_dir(target_dir)
        target = target_dir / entry.path.name
        if target.exists():
            target = target_dir / f"{entry.path.stem}-{secrets.token_hex(2)}.json"
        os.replace(entry.path, target)
        atomic_write(target.with_suffix(".reason"), f"{reason}\n".encode())
    except (OSError, StoreWriteError):
        return BadCheckpoint(entry, reason, None)
    return BadCheckpoint(entry, reason, target)


def check_trusted(root: Path, path: Path) -> None:
    """Refuse a file, or a directory up to the state dir, that another user could write or
    planted as a link. (A linked checkpoint *file* is refused differently: it is read
    without following the link, so it is a bad checkpoint, quarantined, and the restore
    falls back.)"""
    uid = os.geteuid()
    current = path
    chain = [path]
    while current != root and root in current.parents:
        current = current.parent
        chain.append(current)
    for item in chain:
        try:
            info = item.lstat()
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(info.st_mode):
            if item == path:
                continue
            raise UntrustedStoreError(f"refusing {item}: it is a symbolic link")
        if info.st_uid != uid:
            raise UntrustedStoreError(
                f"refusing {item}: owned by uid {info.st_uid}, not by you (uid {uid})"
            )
        if info.st_mode & 0o022:
            raise UntrustedStoreError(
                f"refusing {item}: writable by other users "
                f"(mode {stat.S_IMODE(info.st_mode):04o}); fix with chmod go-w"
            )
