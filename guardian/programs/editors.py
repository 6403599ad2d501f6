"""What vim and aider come back with: vim's Session.vim (given with -S, or in its directory)
with its SHA-256; aider's chat history at its repository's root."""

from __future__ import annotations

import hashlib
import stat
from functools import lru_cache
from pathlib import Path

from guardian.programs.found import Found
from guardian.programs.process import Process

MAX_SESSION_FILE = 4 * 1024 * 1024


def find_vim(process: Process) -> Found:
    argv = process.argv
    given = argv[argv.index("-S") + 1] if "-S" in argv[:-1] else None
    path = Path(process.cwd, given) if given else Path(process.cwd, "Session.vim")
    found = Found()
    digest = file_digest(str(path))
    if digest is not None:
        found.file, found.file_sha256 = str(path), digest
    return found


def file_digest(path: str) -> str | None:
    """SHA-256 of a regular file (not a link), within a size bound."""
    try:
        info = Path(path).lstat()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SESSION_FILE:
        return None
    return _digest(path, info.st_mtime_ns, info.st_size)


@lru_cache(maxsize=256)
def _digest(path: str, _mtime_ns: int, _size: int) -> str | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read(MAX_SESSION_FILE + 1)).hexdigest()
    except OSError:
        return None


def find_aider(process: Process) -> Found:
    root = Path(process.cwd)
    for candidate in (root, *root.parents):
        if (candidate / ".git").exists():
            root = candidate
            break
    history = root / ".aider.chat.history.md"
    found = Found()
    if history.is_file():
        found.file = str(history)
    return found
