"""Finding checkpoint files: by server, by session, by id; newest first. Listings never
follow a link (a linked directory is not ours to read)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from recovery.state_dir import real_subdirs
from recovery.store.entries import CheckpointEntry, CheckpointNotFoundError, entries_in, entry_for
from recovery.store.keys import parse_checkpoint_id, server_key, session_key


class StoreListing:
    """The listing half of the store: paths and entries, nothing read or verified."""

    checkpoints_dir: Path

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
        servers = (
            [self.checkpoints_dir / server_key(socket_path)]
            if socket_path is not None
            else real_subdirs(self.checkpoints_dir)
        )
        for server_dir in servers:
            sessions = real_subdirs(server_dir)
            if session_name is not None:
                wanted = server_dir / session_key(session_name)
                sessions = [d for d in sessions if d == wanted]
            yield from (d for d in sessions if not d.is_symlink())

    def session_dirs(self, socket_path: str) -> list[Path]:
        server_dir = self.checkpoints_dir / server_key(socket_path)
        if server_dir.is_symlink():
            return []
        return [d for d in real_subdirs(server_dir) if not d.is_symlink()]

    def find(self, checkpoint_id: str) -> CheckpointEntry:
        if parse_checkpoint_id(checkpoint_id) is None:
            raise CheckpointNotFoundError(f"'{checkpoint_id}' is not a checkpoint id")
        for session_dir in self._session_dirs_of(None, None):
            entry = entry_for(session_dir / f"{checkpoint_id}.json")
            if entry is not None and (entry.path.exists() or entry.path.is_symlink()):
                return entry
        raise CheckpointNotFoundError(f"no checkpoint with id {checkpoint_id}")
