"""One watcher per server: an exclusive lock file per guarded server in the state dir,
holding the pid of whoever guards it (a watcher, or a UI that guards in-process)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from guardian.errors import WatcherBusyError
from guardian.tmux.targets import ServerTarget
from recovery.files import ensure_private_dir
from recovery.store import server_key


def lock_path(state_dir: Path, target: ServerTarget) -> Path:
    return state_dir / "locks" / f"watch-{server_key(target.socket_path)}.lock"


def watcher_pid(state_dir: Path, target: ServerTarget) -> int | None:
    """The pid of the watcher holding this server's lock, or None when none runs."""
    path = lock_path(state_dir, target)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        return int(text) if text.isdigit() else -1
    finally:
        os.close(fd)
    return None


@contextlib.contextmanager
def watch_locks(state_dir: Path, targets: tuple[ServerTarget, ...]) -> Iterator[None]:
    fds: list[int] = []
    try:
        for target in targets:
            path = lock_path(state_dir, target)
            ensure_private_dir(path.parent)
            flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = os.open(path, flags, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                os.close(fd)
                raise WatcherBusyError(
                    f"another watcher (pid {holder}) already guards {target.label}"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            fds.append(fd)
        yield
    finally:
        for fd in fds:
            os.close(fd)
