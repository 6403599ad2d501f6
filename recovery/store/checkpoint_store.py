"""CheckpointStore: where checkpoints live, how they are written, listed, verified and pruned.

Layout under the state dir:
    checkpoints/<server key>/<session key>/<checkpoint id>.json
    servers/<server key>.json        the sessions a server held at its last snapshot
    quarantine/...                   files that failed verification, with a .reason beside them
    store.lock                       one writer at a time (flock)
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

from config.settings import Retention
from recovery.checkpoint import Checkpoint, CheckpointError, decode_checkpoint, encode_checkpoint
from recovery.files import StoreWriteError, atomic_write, atomic_write_many, ensure_private_dir
from recovery.retention import Dated, select_for_deletion
from recovery.store.entries import CheckpointEntry, CheckpointNotFoundError, entries_in, entry_for
from recovery.store.integrity import BadCheckpoint, check_trusted, quarantine
from recovery.store.keys import parse_checkpoint_id, server_key, session_key, session_name_from_key
from recovery.store.locking import store_lock
from recovery.store.manifest import ManifestFiles, ServerManifest

OnBad = Callable[[BadCheckpoint], None]


class CheckpointStore:
    """All reads and writes of checkpoints go through here."""

    def __init__(self, root: Path, retention: Retention | None = None) -> None:
        self.root = root
        self.retention = retention or Retention()
        self.checkpoints_dir = root / "checkpoints"
        self.quarantine_dir = root / "quarantine"
        self.servers_dir = root / "servers"
        self.lock_path = root / "store.lock"
        self.manifests = ManifestFiles(self.servers_dir)

    def locked(self, timeout: float = 10.0) -> contextlib.AbstractContextManager[None]:
        """Hold the store's exclusive lock (one writer at a time, across processes)."""
        return store_lock(self.root, self.lock_path, timeout)

    # -- writing -------------------------------------------------------------------------

    def session_dir(self, socket_path: str, session_name: str) -> Path:
        return self.checkpoints_dir / server_key(socket_path) / session_key(session_name)

    def write(self, checkpoint: Checkpoint) -> CheckpointEntry:
        """Write one checkpoint atomically and prune its session. Caller holds the lock."""
        directory = ensure_private_dir(
            self.session_dir(checkpoint.server.socket_path, checkpoint.session.name)
        )
        ensure_private_dir(self.checkpoints_dir)
        path = directory / f"{checkpoint.id}.json"
        if path.exists():
            raise StoreWriteError(f"checkpoint {checkpoint.id} already exists")
        atomic_write(path, encode_checkpoint(checkpoint))
        entry = entry_for(path)
        assert entry is not None
        self.prune(directory, protect=checkpoint.id, now=checkpoint.created_at)
        return entry

    def write_many(self, checkpoints: list[Checkpoint]) -> list[CheckpointEntry | StoreWriteError]:
        """Write several checkpoints (one snapshot of many sessions) with shared fsyncs,
        then prune each session. Caller holds the lock."""
        ensure_private_dir(self.checkpoints_dir)
        items: list[tuple[Path, bytes]] = []
        for checkpoint in checkpoints:
            directory = ensure_private_dir(
                self.session_dir(checkpoint.server.socket_path, checkpoint.session.name)
            )
            items.append((directory / f"{checkpoint.id}.json", encode_checkpoint(checkpoint)))
        results: list[CheckpointEntry | StoreWriteError] = []
        for checkpoint, (path, _), error in zip(
            checkpoints, items, atomic_write_many(items), strict=True
        ):
            if error is not None:
                results.append(error)
                continue
            entry = entry_for(path)
            assert entry is not None
            self.prune(path.parent, protect=checkpoint.id, now=checkpoint.created_at)
            results.append(entry)
        return results

    def write_manifest(self, socket_path: str, sessions: list[str], now: datetime) -> None:
        """Record which sessions the server held. Caller holds the lock."""
        self.manifests.write(socket_path, sessions, now)

    def read_manifest(self, socket_path: str) -> ServerManifest | None:
        return self.manifests.read(socket_path)

    # -- reading -------------------------------------------------------------------------

    def entries(
        self, socket_path: str | None = None, session_name: str | None = None
    ) -> list[CheckpointEntry]:
        """Checkpoint files, newest first, optionally of one server and/or one session."""
        found: list[CheckpointEntry] = []
        for session_dir in self._session_dirs_of(socket_path, session_name):
            found += entries_in(session_dir)
        found.sort(key=lambda e: (e.created_at, e.id), reverse=True)
        return found

    def _session_dirs_of(self, socket_path: str | None, session_name: str | None) -> Iterator[Path]:
        if not self.checkpoints_dir.is_dir():
            return
        servers = (
            [self.checkpoints_dir / server_key(socket_path)]
            if socket_path is not None
            else sorted(p for p in self.checkpoints_dir.iterdir() if p.is_dir())
        )
        for server_dir in servers:
            if not server_dir.is_dir():
                continue
            sessions = (
                [server_dir / session_key(session_name)]
                if session_name is not None
                else [p for p in server_dir.iterdir() if p.is_dir()]
            )
            yield from (d for d in sessions if d.is_dir())

    def saved_session_names(self, socket_path: str) -> list[str]:
        """Names of the sessions with checkpoints on this server (verified lazily: only the
        rare shortened directory names need a checkpoint read)."""
        names = []
        for directory in self.session_dirs(socket_path):
            name = session_name_from_key(directory.name)
            if name is None:
                newest = self.newest_verified_in(directory)
                name = newest.session.name if newest else None
            if name is not None and any(directory.glob("*.json")):
                names.append(name)
        return names

    def session_dirs(self, socket_path: str) -> list[Path]:
        server_dir = self.checkpoints_dir / server_key(socket_path)
        if not server_dir.is_dir():
            return []
        return sorted(p for p in server_dir.iterdir() if p.is_dir())

    def find(self, checkpoint_id: str) -> CheckpointEntry:
        if parse_checkpoint_id(checkpoint_id) is None:
            raise CheckpointNotFoundError(f"'{checkpoint_id}' is not a checkpoint id")
        for path in self.checkpoints_dir.glob(f"*/*/{checkpoint_id}.json"):
            entry = entry_for(path)
            if entry is not None:
                return entry
        raise CheckpointNotFoundError(f"no checkpoint with id {checkpoint_id}")

    def load(self, entry: CheckpointEntry) -> Checkpoint:
        """Read and verify one checkpoint; raises CheckpointError without side effects."""
        try:
            data = entry.path.read_bytes()
        except OSError as exc:
            raise CheckpointError(f"cannot read ({exc.strerror})") from None
        checkpoint = decode_checkpoint(data)
        if checkpoint.id != entry.id:
            raise CheckpointError("id inside the file does not match its name")
        return checkpoint

    def newest_verified(
        self, socket_path: str, session_name: str, on_bad: OnBad | None = None
    ) -> Checkpoint | None:
        """The newest checkpoint of a session that verifies; bad newer ones are quarantined."""
        return self._first_verified(self.entries(socket_path, session_name), on_bad)

    def newest_verified_in(
        self, session_dir: Path, on_bad: OnBad | None = None
    ) -> Checkpoint | None:
        return self._first_verified(entries_in(session_dir), on_bad)

    def _first_verified(
        self, entries: list[CheckpointEntry], on_bad: OnBad | None
    ) -> Checkpoint | None:
        for entry in entries:
            try:
                return self.load(entry)
            except CheckpointError as exc:
                bad = self.quarantine(entry, str(exc))
                if on_bad is not None:
                    on_bad(bad)
        return None

    # -- integrity -----------------------------------------------------------------------

    def quarantine(self, entry: CheckpointEntry, reason: str) -> BadCheckpoint:
        """Move a bad file out of the way (never deleted: a person may want to look)."""
        return quarantine(self.quarantine_dir, entry, reason)

    def check_trusted(self, path: Path) -> None:
        """Refuse a file whose directories up to the state dir another user could write."""
        check_trusted(self.root, path)

    # -- retention -----------------------------------------------------------------------

    def prune(self, session_dir: Path, *, protect: str | None, now: datetime) -> list[str]:
        """Apply retention to one session's directory. Caller holds the lock."""
        doomed = select_for_deletion(
            [Dated(e.id, e.created_at) for e in entries_in(session_dir)],
            now=now,
            keep_last=self.retention.keep_last,
            daily_days=self.retention.daily_days,
            protect=protect,
        )
        for checkpoint_id in doomed:
            with contextlib.suppress(FileNotFoundError):
                (session_dir / f"{checkpoint_id}.json").unlink()
        return doomed

    def age_out(self, socket_path: str, live_names: set[str], now: datetime) -> list[Path]:
        """Remove sessions absent from the server and unsaved for longer than D days."""
        horizon = now - timedelta(days=max(self.retention.daily_days, 1))
        live_keys = {session_key(name) for name in live_names}
        removed: list[Path] = []
        for session_dir in self.session_dirs(socket_path):
            if session_dir.name in live_keys:
                continue
            dates = [e.created_at for e in entries_in(session_dir)]
            if not dates or max(dates) < horizon:
                shutil.rmtree(session_dir, ignore_errors=True)
                removed.append(session_dir)
        return removed
