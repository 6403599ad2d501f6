"""The `session-closed` trace: a hook at the watcher's own index appends one line per
closed session to a file in the state dir; reading it tells a deliberate shutdown from a
crash (a crash fires no hook, FIELD_NOTES.md)."""

from __future__ import annotations

import contextlib
import os
import shlex
import time
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


class ServerCommandLine:
    """A server's command line, kept while it runs: the hook shells it forked just before
    it ended still carry it until their exec."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.line: bytes | None = None

    def note(self, pid: int | None) -> None:
        if pid is None or pid == self.pid:
            return
        self.pid, self.line = pid, None
        with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as f:
            self.line = f.read(65536) or None


def hook_writers(log_path: Path, server_cmdline: bytes | None = None) -> list[int]:
    """Processes still about to append to the trace: the hook's shells name its path. A
    server forks them before it exits (run-shell starts its shell at once), so once the
    server is gone, no writer left means no line is coming. A shell not yet started
    (forked, not yet exec'd) still has its server's command line."""
    needle = log_path.name.encode()  # (the path itself may be quoted in pieces)
    found = []
    with contextlib.suppress(OSError), os.scandir("/proc") as entries:
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                    line = f.read(65536)
                if needle in line or (server_cmdline is not None and line == server_cmdline):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


class ClosedLog:
    """Reads the lines the hook appended since the last read."""

    def wait_for_late_lines(
        self, wait: float, server_cmdline: bytes | None = None
    ) -> list[ClosedEvent]:
        """After a server's end: the lines its hook is still writing, waiting at most `wait`
        and only while one of its writers still runs (a crash leaves none: no wait)."""
        deadline = time.monotonic() + wait
        unseen = 0
        while True:
            late = self.read_new()
            if late or time.monotonic() >= deadline:
                return late
            # (twice: a process caught in the middle of its exec shows no command line)
            unseen = 0 if hook_writers(self.path, server_cmdline) else unseen + 1
            if unseen == 2:
                return self.read_new()  # the last writer may have just finished
            time.sleep(0.01)

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
