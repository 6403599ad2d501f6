"""The restore set of each server: the sessions it should hold, in `servers/<key>.json`,
checksummed; a file that does not verify reads as no manifest."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from recovery.canonical import sha256_hex
from recovery.files import atomic_write, ensure_private_dir
from recovery.reading import read_bounded
from recovery.store.keys import server_key


class ServerManifest(BaseModel):
    """The sessions a server held when it was last read by a snapshot."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    socket_path: str
    taken_at: datetime
    sessions: tuple[str, ...]


class ManifestFiles:
    def __init__(self, servers_dir: Path) -> None:
        self.servers_dir = servers_dir

    def path(self, socket_path: str) -> Path:
        return self.servers_dir / f"{server_key(socket_path)}.json"

    def write(self, socket_path: str, sessions: list[str], now: datetime) -> None:
        """Record which sessions the server held. Caller holds the store lock."""
        manifest = ServerManifest(socket_path=socket_path, taken_at=now, sessions=tuple(sessions))
        payload = manifest.model_dump(mode="json")
        body = {"sha256": sha256_hex(payload), "payload": payload}
        ensure_private_dir(self.servers_dir)
        data = json.dumps(body, ensure_ascii=False, indent=1).encode() + b"\n"
        atomic_write(self.path(socket_path), data)

    def read(self, socket_path: str) -> ServerManifest | None:
        try:
            data, _facts = read_bounded(self.path(socket_path), 4 * 1024 * 1024)
            body = json.loads(data)
            if sha256_hex(body["payload"]) != body["sha256"]:
                return None
            return ServerManifest.model_validate(body["payload"])
        except (OSError, ValueError, KeyError, TypeError, ValidationError, RecursionError):
            return None
