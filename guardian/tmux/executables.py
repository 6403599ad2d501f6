"""What an `argv[0]` is on this machine, for the rule on what may run: its real path found
on PATH, the `#!` interpreter of a script (`#!/usr/bin/env node` included), and what the
bare program name means on PATH. Read from the file system; judged in recovery.may_run."""

from __future__ import annotations

import os
import shutil
from functools import lru_cache
from pathlib import Path

from recovery.may_run import Executable, Resolver


def resolver(path: str | None = None) -> Resolver:
    """Resolve argv[0]s in the environment a new pane gets (our PATH, or `path`)."""
    search = path if path is not None else os.environ.get("PATH", os.defpath)

    @lru_cache(maxsize=256)
    def resolve(argv0: str) -> Executable:
        name = argv0.rsplit("/", 1)[-1].lstrip("-")
        found = _real(argv0 if "/" in argv0 else shutil.which(argv0, path=search))
        named = _real(shutil.which(name, path=search)) if name else None
        interpreter, interpreter_name = _interpreter(found, search)
        return Executable(
            path=found, interpreter=interpreter, interpreter_name=interpreter_name, named=named
        )

    return resolve


def _real(path: str | None) -> str | None:
    if not path or not Path(path).is_file():
        return None
    return os.path.realpath(path)


def _interpreter(path: str | None, search: str) -> tuple[str | None, str | None]:
    """The real path of a script's `#!` interpreter, and the name `env NAME` gives it."""
    if path is None:
        return None, None
    try:
        with open(path, "rb") as handle:
            first = handle.read(256)
    except OSError:
        return None, None
    if not first.startswith(b"#!"):
        return None, None
    words = first[2:].split(b"\n", 1)[0].decode("utf-8", "replace").split()
    if not words:
        return None, None
    program = _real(words[0])
    if program is not None and os.path.basename(program) == "env":
        named = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        if not named:
            return None, None
        return _real(shutil.which(named[0], path=search)), named[0]
    return program, None
