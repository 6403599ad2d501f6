"""CheckpointStore: where checkpoints live, how they are written, listed, verified and pruned.

Layout under the state dir:
    checkpoints/<server key>/<session key>/<checkpoint id>.json
    servers/<server key>.json        the sessions a server held at its last snapshot
    quarantine/...                   files that failed verification, with a .reason beside them
    store.lock                       one writer at a time (flock)
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, unquote

from pydantic import BaseModel, ConfigDict, ValidationError

from config.settings import Retention
from recovery.canonical import sha256_hex
from recovery.checkpoint import Checkpoint, CheckpointError, decode_checkpoint, encode_checkpoint
from recovery.files import (
    StoreWriteError,
    atomic_write,
    atomic_write_many,
    ensure_private_dir,
)
from recovery.retention import Dated, select_for_deletion

_ID_RE = re.compile(r"^(\d{8}T\d{6}\.\d{6})Z-[0-9a-f]{4}$")


class StoreBusyError(Exception):
    """Another process holds the store lock for longer than we wait."""


class UntrustedStoreError(Exception):
    """A store directory or file another user could have written: never restore from it."""


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


@dataclass(frozen=True)
class BadCheckpoint:
    entry: CheckpointEntry
    reason: str
    moved_to: Path | None


def describe_bad(bad: BadCheckpoint) -> str:
    where = f"moved to {bad.moved_to}" if bad.moved_to else "could not be moved"
    return f"checkpoint {bad.entry.id} refused: {bad.reason} ({where})"


class ServerManifest(BaseModel):
    """The sessions a server held when it was last read by a snapshot."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    socket_path: str
    taken_at: datetime
    sessions: tuple[str, ...]


def new_checkpoint_id(now: datetime) -> str:
    """Sortable by time, unique below one second: `20261123T041221.123456Z-a1b2`."""
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%S.%f}Z-{secrets.token_hex(2)}"


def parse_checkpoint_id(checkpoint_id: str) -> datetime | None:
    match = _ID_RE.match(checkpoint_id)
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%S.%f").replace(tzinfo=UTC)


def server_key(socket_path: str) -> str:
    """A directory name for a server: readable socket name plus a digest of the full path."""
    base = re.sub(r"[^A-Za-z0-9_-]", "_", Path(socket_path).name)[:40] or "server"
    return f"{base}-{hashlib.sha256(socket_path.encode()).hexdigest()[:10]}"


def session_key(name: str) -> str:
    """A directory name for any session name (quotes, `/`, `..`, unicode): encoded, bounded."""
    encoded = quote(name, safe="-_").replace(".", "%2E")
    if len(encoded) > 96:
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
        encoded = f"{encoded[:72]}~{digest}"
    return f"s-{encoded}"


def session_name_from_key(key: str) -> str | None:
    """The session name a directory holds, when its key was not shortened with a digest."""
    if not key.startswith("s-") or "~" in key:
        return None
    return unquote(key[2:])


class CheckpointStore:
    """All reads and writes of checkpoints go through here."""

    def __init__(self, root: Path, retention: Retention | None = None) -> None:
        self.root = root
        self.retention = retention or Retention()
        self.checkpoints_dir = root / "checkpoints"
        self.quarantine_dir = root / "quarantine"
        self.servers_dir = root / "servers"
        self.lock_path = root / "store.lock"

    # -- locking -------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self, timeout: float = 10.0) -> Iterator[None]:
        """Hold the store's exclusive lock (one writer at a time, across processes)."""
        ensure_private_dir(self.root)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
                        raise StoreBusyError(
                            f"the checkpoint store {self.root} is locked by process "
                            f"{holder or '?'}; try again"
                        ) from None
                    time.sleep(0.02)
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(fd)  # closing releases the flock

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
        entry = self._entry(path)
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
            entry = self._entry(path)
            assert entry is not None
            self.prune(path.parent, protect=checkpoint.id, now=checkpoint.created_at)
            results.append(entry)
        return results

    def write_manifest(self, socket_path: str, sessions: list[str], now: datetime) -> None:
        """Record which sessions the server held. Caller holds the lock."""
        manifest = ServerManifest(socket_path=socket_path, taken_at=now, sessions=tuple(sessions))
        payload = manifest.model_dump(mode="json")
        body = {"sha256": sha256_hex(payload), "payload": payload}
        ensure_private_dir(self.servers_dir)
        path = self.servers_dir / f"{server_key(socket_path)}.json"
        atomic_write(path, json.dumps(body, ensure_ascii=False, indent=1).encode() + b"\n")

    def read_manifest(self, socket_path: str) -> ServerManifest | None:
        path = self.servers_dir / f"{server_key(socket_path)}.json"
        try:
            body = json.loads(path.read_bytes())
            if sha256_hex(body["payload"]) != body["sha256"]:
                return None
            return ServerManifest.model_validate(body["payload"])
        except (OSError, ValueError, KeyError, TypeError, ValidationError):
            return None

    # -- reading -------------------------------------------------------------------------

    def entries(
        self, socket_path: str | None = None, session_name: str | None = None
    ) -> list[CheckpointEntry]:
        """Checkpoint files, newest first, optionally of one server and/or one session."""
        if not self.checkpoints_dir.is_dir():
            return []
        servers = (
            [self.checkpoints_dir / server_key(socket_path)]
            if socket_path is not None
            else sorted(p for p in self.checkpoints_dir.iterdir() if p.is_dir())
        )
        found: list[CheckpointEntry] = []
        for server_dir in servers:
            if not server_dir.is_dir():
                continue
            sessions = (
                [server_dir / session_key(session_name)]
                if session_name is not None
                else [p for p in server_dir.iterdir() if p.is_dir()]
            )
            for session_dir in sessions:
                if not session_dir.is_dir():
                    continue
                for path in session_dir.glob("*.json"):
                    entry = self._entry(path)
                    if entry is not None:
                        found.append(entry)
        found.sort(key=lambda e: (e.created_at, e.id), reverse=True)
        return found

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
            entry = self._entry(path)
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
        self,
        socket_path: str,
        session_name: str,
        on_bad: Callable[[BadCheckpoint], None] | None = None,
    ) -> Checkpoint | None:
        """The newest checkpoint of a session that verifies; bad newer ones are quarantined."""
        for entry in self.entries(socket_path, session_name):
            try:
                return self.load(entry)
            except CheckpointError as exc:
                bad = self.quarantine(entry, str(exc))
                if on_bad is not None:
                    on_bad(bad)
        return None

    def newest_verified_in(
        self, session_dir: Path, on_bad: Callable[[BadCheckpoint], None] | None = None
    ) -> Checkpoint | None:
        entries = sorted(
            (e for e in map(self._entry, session_dir.glob("*.json")) if e is not None),
            key=lambda e: (e.created_at, e.id),
            reverse=True,
        )
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
        target_dir = self.quarantine_dir / entry.server_key / entry.session_key
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

    def check_trusted(self, path: Path) -> None:
        """Refuse a file whose directories up to the state dir another user could write."""
        uid = os.geteuid()
        current = path
        chain = [path]
        while current != self.root and self.root in current.parents:
            current = current.parent
            chain.append(current)
        for item in chain:
            try:
                info = item.lstat()
            except FileNotFoundError:
                continue
            if stat.S_ISLNK(info.st_mode):
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

    # -- retention -----------------------------------------------------------------------

    def prune(self, session_dir: Path, *, protect: str | None, now: datetime) -> list[str]:
        """Apply retention to one session's directory. Caller holds the lock."""
        entries = [e for e in map(self._entry, session_dir.glob("*.json")) if e is not None]
        doomed = select_for_deletion(
            [Dated(e.id, e.created_at) for e in entries],
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
            dates = [e.created_at for e in map(self._entry, session_dir.glob("*.json")) if e]
            if not dates or max(dates) < horizon:
                shutil.rmtree(session_dir, ignore_errors=True)
                removed.append(session_dir)
        return removed

    def _entry(self, path: Path) -> CheckpointEntry | None:
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
