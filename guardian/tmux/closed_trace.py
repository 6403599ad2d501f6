"""The `session-closed` trace: a hook at the watcher's own index appends one line per
closed session to a file in the state dir; reading it tells a deliberate shutdown from a
crash (a crash fires no hook, FIELD_NOTES.md)."""

from __future__ import annotations

import contextlib
import os
import shlex
from pathlib import Path

from recovery.observations import ClosedEvent
from recovery.store import server_key

MAX_READ = 1 << 20
"""Closes written between two polls: a few lines. More is read at the next poll."""


def closed_log_path(state_dir: Path, socket_path: str) -> Path:
    return state_dir / "hooks" / f"closed-{server_key(socket_path)}.log"


def hook_command(log_path: Path) -> str:
    """The hook: plain sh, backgrounded by sh itself (tmux kills its own jobs when it exits,
    so `run-shell -b` would lose the line written during `kill-server`)."""
    target = shlex.quote(str(log_path)).replace("#", "##")  # `#` would start a format
    script = (
        "printf '%s\\t%s\\t%s\\n' \"$(date +%s)\" '#{hook_session}' "
        f"#{{q:hook_session_name}} >> {target} &"
    )
    escaped = script.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'run-shell "{escaped}"'


class ClosedLog:
    """Reads the lines the hook appended since the last read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def skip_to_end(self) -> None:
        with contextlib.suppress(OSError):
            self.offset = self.path.stat().st_size

    def read_all(self) -> list[ClosedEvent]:
        self.offset = 0
        return self.read_new()

    def read_new(self) -> list[ClosedEvent]:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            return []
        try:
            data = os.pread(fd, MAX_READ, self.offset)
        except OSError:
            return []
        finally:
            os.close(fd)
        complete = data[: data.rfind(b"\n") + 1]  # a line being written waits for next time
        self.offset += len(complete)
        events = []
        for line in complete.decode("utf-8", errors="replace").splitlines():
            parts = line.split("\t", 2)
            if len(parts) == 3 and parts[0].isdigit():
                events.append(ClosedEvent(at=float(parts[0]), session_id=parts[1], name=parts[2]))
        return events
