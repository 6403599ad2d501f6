"""One writer at a time, across processes: an exclusive flock on `store.lock`, holding the
pid of its holder so a person waiting is told who."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from recovery.files import ensure_private_dir


class StoreBusyError(Exception):
    """Another process holds the store lock for longer than we wait."""


@contextlib.contextmanager
def store_lock(root: Path, lock_path: Path, timeout: float = 10.0) -> Iterator[None]:
    """Hold the store's exclusive lock."""
    ensure_private_dir(root)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
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
                        f"the checkpoint store {root} is locked by process "
                        f"{holder or '?'}; try again"
                    ) from None
                time.sleep(0.02)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the flock
