"""Codex CLI's conversation for a running `codex` (facts: shared/PROGRAMS.md; codex-rs
rollout recorder): the running binary keeps its rollout file open for appending, so
`/proc/PID/fd` of it (or of the child the npm Node launcher runs) names the conversation
exactly: `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<local time>-<id>.jsonl[.zst]`. Before the
first turn there is no rollout: nothing to resume yet."""

from __future__ import annotations

import os
import re
from pathlib import Path

from guardian.programs.found import Found
from guardian.programs.process import Process

ROLLOUT = re.compile(
    r"/rollout-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-"
    r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"\.jsonl(?:\.zst)?$"
)


def find(process: Process) -> Found:
    found = Found()
    for pid in process.family():
        for target in _open_files(pid):
            match = ROLLOUT.search(target)
            if match:
                found.exact = match.group(1)
                found.files[found.exact] = target
                return found
    given = _resumed_id(process.argv)
    if given:
        found.argv = given
    else:
        found.note = "no conversation yet"
    return found


def _open_files(pid: int) -> list[str]:
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return []
    targets = []
    for fd in fds:
        try:
            targets.append(os.readlink(fd).removesuffix(" (deleted)"))
        except OSError:
            continue
    return targets


def _resumed_id(argv: tuple[str, ...]) -> str | None:
    """`codex resume ID`: the word after `resume` when it is not an option."""
    if "resume" not in argv:
        return None
    rest = argv[argv.index("resume") + 1 :]
    return next((word for word in rest if not word.startswith("-")), None)
