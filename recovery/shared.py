"""State a person and the watcher share (DESIGN.md, "Watcher, TUI and CLI together"):
paused and forgotten sessions, given-up sessions and their reset. One JSON file in the
state dir, written atomically; the watcher reads it every poll (when it changed)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from recovery.files import atomic_write, ensure_private_dir
from recovery.reading import read_bounded


class GivenUp(BaseModel):
    model_config = ConfigDict(frozen=True)

    reason: str
    at: float


class SharedState(BaseModel):
    """Keys are `SOCKET_PATH\\tSESSION` so that names may hold anything but a tab."""

    model_config = ConfigDict(frozen=True)

    paused: frozenset[str] = frozenset()
    forgotten: frozenset[str] = frozenset()
    given_up: dict[str, GivenUp] = Field(default_factory=dict)
    reset: frozenset[str] = frozenset()
    """Given-up sessions a person asked to recover now."""


def shared_key(server: str, session: str) -> str:
    return f"{server}\t{session}"


class SharedStore:
    def __init__(self, root: Path) -> None:
        self.path = root / "shared.json"
        self._cache: tuple[float, SharedState] | None = None

    def load(self) -> SharedState:
        """Cheap when unchanged: re-read only when the file's mtime moved."""
        try:
            mtime = self.path.lstat().st_mtime_ns
        except FileNotFoundError:
            return SharedState()
        if self._cache is not None and self._cache[0] == mtime:
            return self._cache[1]
        try:
            data, _facts = read_bounded(self.path, 16 * 1024 * 1024)
            state = SharedState.model_validate(json.loads(data))
        except (OSError, ValueError, ValidationError, RecursionError):
            state = SharedState()  # unreadable: guard everything rather than nothing
        self._cache = (mtime, state)
        return state

    def save(self, state: SharedState) -> None:
        """Caller holds the store lock."""
        ensure_private_dir(self.path.parent)
        atomic_write(self.path, state.model_dump_json(indent=1).encode() + b"\n")
        self._cache = None
