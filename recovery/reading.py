"""Reading a file safely: never through a symbolic link, never a FIFO or a device (a read
that hangs), never more than a bound. Every file of the state dir, the config file and
imported files are read this way."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path


class UnsafeFileError(OSError):
    """A file that is not a regular file of its own, or past its size bound."""


@dataclass(frozen=True)
class FileFacts:
    uid: int
    mode: int
    size: int

    @property
    def private(self) -> bool:
        """Owned by this user, and nobody else may read or write it."""
        return self.uid == os.geteuid() and not self.mode & 0o077


def read_bounded(path: Path, limit: int, *, follow: bool = False) -> tuple[bytes, FileFacts]:
    """The whole file, read through a descriptor that refused to follow a link (unless
    `follow`: a file a person names on the command line may be a link of theirs)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeFileError(exc.errno, "it is a symbolic link") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFileError(errno.EINVAL, "not a regular file")
        if info.st_size > limit:
            raise UnsafeFileError(
                errno.EFBIG, f"too large ({info.st_size} bytes; the limit is {limit})"
            )
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew while we read
            raise UnsafeFileError(errno.EFBIG, f"too large (over {limit} bytes)")
        facts = FileFacts(info.st_uid, stat.S_IMODE(info.st_mode), size)
        return b"".join(chunks), facts
    finally:
        os.close(fd)
