"""Durable, private file writes: temp file, fsync, rename, fsync the directory."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


class StoreWriteError(Exception):
    """A write that did not happen; whatever was there before is intact."""


def ensure_private_dir(path: Path) -> Path:
    """Create `path` and any missing parents as 0700 (mkdir's `parents` ignores the mode).
    A directory of ours that is a symbolic link is refused, never written through."""
    if path.is_symlink():
        raise OSError(errno.ELOOP, f"refusing {path}: it is a symbolic link")
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        directory.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        directory.chmod(PRIVATE_DIR)  # umask may have taken bits away, never added
    return path


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write `data` to `path` so that readers see the old file or the whole new one.
    `durable=False` skips the fsyncs, for files rewritten every second (live state)."""
    directory = path.parent
    temp = directory / f".tmp-{path.name}-{secrets.token_hex(4)}"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
        if durable:
            fsync_dir(directory)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise StoreWriteError(describe_os_error(exc, path)) from None


def atomic_write_many(items: list[tuple[Path, bytes]]) -> list[StoreWriteError | None]:
    """`atomic_write` for many files at once, with the same guarantee per file.

    All temp files are written first and fsynced concurrently (the file system batches
    concurrent fsyncs into shared journal commits), then renamed, then each directory is
    fsynced once. Returns, per item, None or the error that kept it from being written."""
    results: list[StoreWriteError | None] = [None] * len(items)
    temps: list[Path | None] = [None] * len(items)
    fds: dict[int, int] = {}
    try:
        for index, (path, data) in enumerate(items):
            temp = path.parent / f".tmp-{path.name}-{secrets.token_hex(4)}"
            try:
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
                temps[index] = temp
                fds[index] = fd
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            except OSError as exc:
                results[index] = StoreWriteError(describe_os_error(exc, path))
        with ThreadPoolExecutor(max_workers=8) as pool:
            synced = pool.map(_fsync_or_error, [fds[i] for i in sorted(fds)])
            for index, error in zip(sorted(fds), synced, strict=True):
                if error is not None and results[index] is None:
                    results[index] = StoreWriteError(describe_os_error(error, items[index][0]))
    finally:
        for fd in fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
    directories: set[Path] = set()
    for index, (path, _data) in enumerate(items):
        written = temps[index]
        if results[index] is None and written is not None:
            try:
                os.replace(written, path)
                directories.add(path.parent)
                continue
            except OSError as exc:
                results[index] = StoreWriteError(describe_os_error(exc, path))
        if written is not None:
            with contextlib.suppress(OSError):
                written.unlink()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(_fsync_dir_quietly, directories))
    return results


def _fsync_or_error(fd: int) -> OSError | None:
    try:
        os.fsync(fd)
    except OSError as exc:
        return exc
    return None


def _fsync_dir_quietly(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fsync_dir(directory)


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def describe_os_error(exc: OSError, path: Path) -> str:
    if exc.errno == errno.ENOSPC:
        return f"cannot write {path}: no space left on device; nothing older was touched"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"cannot write {path}: permission denied"
    if exc.errno == errno.EROFS:
        return f"cannot write {path}: read-only file system"
    return f"cannot write {path}: {exc.strerror or exc}"
