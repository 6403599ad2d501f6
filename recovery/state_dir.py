"""The state dir is the person's own (DESIGN.md): checked by every command that reads or
writes it. The directory (wherever the path to it leads) is owned by this user and not
writable by others; inside it nothing is a symbolic link and no directory is writable by
others. A planted link (`store.lock` -> `~/.ssh/authorized_keys`) would otherwise turn an
ordinary snapshot against its owner.

Files are also opened with O_NOFOLLOW and listings never follow links, so a link planted
between this check and a write is refused there too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

# What the tool keeps at the top of the state dir; anything else there is left alone.
TOP_DIRS = ("checkpoints", "quarantine", "servers", "live", "hooks", "locks", "prepared", "tmp")
TOP_FILES = ("store.lock", "journal.jsonl", "shared.json", "watch.log", "migrated-v2")


class UntrustedStoreError(Exception):
    """A state dir, store directory or file another user could have written or planted:
    never read from or written through."""


def check_state_dir(root: Path) -> None:
    """Raise UntrustedStoreError naming the first thing in the state dir that is not the
    person's own; a state dir that does not exist yet is fine."""
    try:
        info = root.stat()  # the path to the state dir is the person's choice: followed
    except FileNotFoundError:
        return
    _check_owned(root, info, directory=True)
    for path in _inside(root):
        try:
            info = path.lstat()
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(info.st_mode):
            raise UntrustedStoreError(f"refusing {path}: it is a symbolic link")
        _check_owned(path, info, directory=stat.S_ISDIR(info.st_mode))


def _inside(root: Path) -> Iterator[Path]:
    """The top files and directories, and the two levels of checkpoint directories."""
    yield from (root / name for name in TOP_FILES)
    yield from (root / f"journal.{n}.jsonl" for n in (1, 2, 3))
    yield from (root / f"watch.log.{n}" for n in (1, 2, 3))
    for name in TOP_DIRS:
        top = root / name
        yield top
        if name in ("checkpoints", "quarantine"):
            for server_dir in real_subdirs(top):
                yield server_dir
                yield from real_subdirs(server_dir)


def real_subdirs(directory: Path) -> list[Path]:
    """Subdirectories, and links (so the caller sees and refuses them); never followed."""
    try:
        with os.scandir(directory) as entries:
            return sorted(
                Path(entry.path)
                for entry in entries
                if entry.is_symlink() or entry.is_dir(follow_symlinks=False)
            )
    except (FileNotFoundError, NotADirectoryError):
        return []


def _check_owned(path: Path, info: os.stat_result, *, directory: bool) -> None:
    uid = os.geteuid()
    if info.st_uid != uid:
        raise UntrustedStoreError(
            f"refusing {path}: owned by uid {info.st_uid}, not by you (uid {uid})"
        )
    if info.st_mode & 0o022:
        what = "directory" if directory else "file"
        raise UntrustedStoreError(
            f"refusing {path}: a {what} writable by other users "
            f"(mode {stat.S_IMODE(info.st_mode):04o}); fix with chmod go-w"
        )
