"""CheckpointStore: where checkpoints live, how they are written, listed, verified and pruned.

Layout under the state dir:
    checkpoints/<server key>/<session key>/<checkpoint id>.json
    servers/<server key>.json        the sessions a server held at its last snapshot
    quarantine/...                   files that failed verification, with a .reason beside them
    store.lock                       one writer at a time (flock)

Every file is read without following a link and within a size bound; listings never
follow links. A read-only store (`--dry-run`) reports what it would quarantine and moves
nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from config.settings import Retention
from recovery.checkpoint import (
    MAX_BYTES,
    Checkpoint,
    CheckpointError,
    NewerCheckpointError,
    decode_checkpoint,
    encode_checkpoint,
)
from recovery.files import StoreWriteError, atomic_write, atomic_write_many, ensure_private_dir
from recovery.may_run import Trust
from recovery.reading import UnsafeFileError, read_bounded
from recovery.signing import KeyRing
from recovery.store.entries import CheckpointEntry, entries_in, entry_for
from recovery.store.integrity import BadCheckpoint, check_trusted, quarantine
from recovery.store.keys import server_key, session_key, session_name_from_key
from recovery.store.listing import StoreListing
from recovery.store.locking import store_lock
from recovery.store.manifest import ManifestFiles, ServerManifest
from recovery.store.pruning import age_out_sessions, prune_session
from recovery.store.trust import trust_of

OnBad = Callable[[BadCheckpoint], None]
MIGRATED_MARKER = "migrated-v2"


@dataclass(frozen=True)
class Verified:
    """A checkpoint that verified, and whose it is."""

    entry: CheckpointEntry
    checkpoint: Checkpoint
    trust: Trust


class CheckpointStore(StoreListing):
    """All reads and writes of checkpoints go through here."""

    def __init__(
        self,
        root: Path,
        retention: Retention | None = None,
        keys: KeyRing | None = None,
        *,
        read_only: bool = False,
    ) -> None:
        self.root = root
        self.retention = retention or Retention()
        self.keys = keys or KeyRing()
        self.read_only = read_only
        self.checkpoints_dir = root / "checkpoints"
        self.quarantine_dir = root / "quarantine"
        self.lock_path = root / "store.lock"
        self.manifests = ManifestFiles(root / "servers")

    def locked(self, timeout: float = 10.0) -> contextlib.AbstractContextManager[None]:
        """Hold the store's exclusive lock (one writer at a time, across processes)."""
        return store_lock(self.root, self.lock_path, timeout)

    # -- writing -------------------------------------------------------------------------

    def session_dir(self, socket_path: str, session_name: str) -> Path:
        return self.checkpoints_dir / server_key(socket_path) / session_key(session_name)

    def write(self, checkpoint: Checkpoint) -> CheckpointEntry:
        """Write one checkpoint atomically, signed, and prune its session. Caller holds
        the lock."""
        key = self.keys.for_writing()
        directory = ensure_private_dir(
            self.session_dir(checkpoint.server.socket_path, checkpoint.session.name)
        )
        path = directory / f"{checkpoint.id}.json"
        if path.exists():
            raise StoreWriteError(f"checkpoint {checkpoint.id} already exists")
        atomic_write(path, encode_checkpoint(checkpoint, key))
        entry = entry_for(path)
        assert entry is not None
        self.prune(directory, protect=self._protected(checkpoint), now=checkpoint.created_at)
        return entry

    def _protected(self, written: Checkpoint) -> set[str]:
        """Never pruned: the one just written, and the newest taken while healthy (however
        many a crash loop writes around its failures)."""
        if written.healthy:
            return {written.id}
        directory = self.session_dir(written.server.socket_path, written.session.name)
        healthy = self.first_verified(entries_in(directory), accept=lambda v: v.checkpoint.healthy)
        return {written.id} | ({healthy.entry.id} if healthy else set())

    def write_many(self, checkpoints: list[Checkpoint]) -> list[CheckpointEntry | StoreWriteError]:
        """Write several checkpoints (one snapshot of many sessions), signed, with shared
        fsyncs, then prune each session. Caller holds the lock."""
        key = self.keys.for_writing()
        ensure_private_dir(self.checkpoints_dir)
        items: list[tuple[Path, bytes]] = []
        for checkpoint in checkpoints:
            directory = ensure_private_dir(
                self.session_dir(checkpoint.server.socket_path, checkpoint.session.name)
            )
            items.append((directory / f"{checkpoint.id}.json", encode_checkpoint(checkpoint, key)))
        results: list[CheckpointEntry | StoreWriteError] = []
        for checkpoint, (path, _), error in zip(
            checkpoints, items, atomic_write_many(items), strict=True
        ):
            if error is not None:
                results.append(error)
                continue
            entry = entry_for(path)
            assert entry is not None
            self.prune(path.parent, protect=self._protected(checkpoint), now=checkpoint.created_at)
            results.append(entry)
        return results

    def alone(self, socket_path: str, session_name: str) -> bool:
        """Fewer than two checkpoint files for this session: one damaged file would lose it.
        Never true when retention keeps only one (a spare would be pruned at once)."""
        if self.retention.keep_last < 2:
            return False
        return len(entries_in(self.session_dir(socket_path, session_name))) < 2

    def write_manifest(self, socket_path: str, sessions: list[str], now: datetime) -> None:
        """Record which sessions the server held. Caller holds the lock."""
        self.manifests.write(socket_path, sessions, now)

    def read_manifest(self, socket_path: str) -> ServerManifest | None:
        return self.manifests.read(socket_path)

    # -- reading -------------------------------------------------------------------------

    def saved_session_names(self, socket_path: str) -> list[str]:
        """Names of the sessions with checkpoints on this server (verified lazily: only the
        rare shortened directory names need a checkpoint read)."""
        names = []
        for directory in self.session_dirs(socket_path):
            name = session_name_from_key(directory.name)
            if name is None:
                newest = self.newest_verified_in(directory)
                name = newest.session.name if newest else None
            if name is not None and entries_in(directory):
                names.append(name)
        return names

    def load(self, entry: CheckpointEntry) -> Checkpoint:
        """Read and verify one checkpoint; raises CheckpointError without side effects."""
        return self.load_verified(entry).checkpoint

    def load_verified(self, entry: CheckpointEntry) -> Verified:
        """Read (bounded, never through a link), verify, and say whose it is."""
        try:
            data, facts = read_bounded(entry.path, MAX_BYTES)
        except UnsafeFileError as exc:
            raise CheckpointError(exc.strerror or "unsafe file") from None
        except OSError as exc:
            raise CheckpointError(f"cannot read ({exc.strerror})") from None
        decoded = decode_checkpoint(data, self.keys.for_reading())
        if decoded.checkpoint.id != entry.id:
            raise CheckpointError("id inside the file does not match its name")
        legacy = not (self.root / MIGRATED_MARKER).exists()
        return Verified(entry, decoded.checkpoint, trust_of(decoded, facts, legacy))

    def newest_verified(
        self, socket_path: str, session_name: str, on_bad: OnBad | None = None
    ) -> Checkpoint | None:
        """The newest checkpoint of a session that verifies; bad newer ones are quarantined."""
        found = self.newest(socket_path, session_name, on_bad)
        return found.checkpoint if found else None

    def newest(
        self, socket_path: str, session_name: str, on_bad: OnBad | None = None
    ) -> Verified | None:
        """The newest checkpoint of a session that verifies, and whose it is."""
        return self.first_verified(self.entries(socket_path, session_name), on_bad)

    def newest_verified_in(self, directory: Path, on_bad: OnBad | None = None) -> Checkpoint | None:
        found = self.first_verified(entries_in(directory), on_bad)
        return found.checkpoint if found else None

    def first_verified(
        self,
        entries: list[CheckpointEntry],
        on_bad: OnBad | None = None,
        accept: Callable[[Verified], bool] | None = None,
    ) -> Verified | None:
        """The first entry that verifies (and that `accept` takes); bad ones before it are
        quarantined, newer-schema ones skipped, each reported to `on_bad`."""
        for entry in entries:
            try:
                found = self.load_verified(entry)
            except NewerCheckpointError as exc:
                bad = BadCheckpoint(entry, str(exc), None, skipped=True)
            except CheckpointError as exc:
                bad = self.quarantine(entry, str(exc))
            else:
                if accept is None or accept(found):
                    return found
                continue
            if on_bad is not None:
                on_bad(bad)
        return None

    # -- integrity -----------------------------------------------------------------------

    def quarantine(self, entry: CheckpointEntry, reason: str) -> BadCheckpoint:
        """Move a bad file out of the way (never deleted: a person may want to look)."""
        if self.read_only:
            return BadCheckpoint(entry, reason, None, dry_run=True)
        return quarantine(self.quarantine_dir, entry, reason)

    def check_trusted(self, path: Path) -> None:
        """Refuse a file whose directories up to the state dir another user could write."""
        check_trusted(self.root, path)

    # -- retention -----------------------------------------------------------------------

    def prune(self, session_dir: Path, *, protect: set[str], now: datetime) -> list[str]:
        """Apply retention to one session's directory. Caller holds the lock."""
        return prune_session(session_dir, self.retention, protect=protect, now=now)

    def age_out(self, socket_path: str, live_names: set[str], now: datetime) -> list[Path]:
        """Remove sessions absent from the server and unsaved for longer than D days."""
        return age_out_sessions(self.session_dirs(socket_path), self.retention, live_names, now)
