"""Reading /proc: a process's state, argv, start time, executable, children, environment
and signal dispositions. Plain os calls (this runs for every pane at every poll); nothing
here raises for a process that vanished meanwhile: it just reports less."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from functools import lru_cache

import psutil

from recovery.models import ProgramState

SHELLS = frozenset(
    {
        "sh", "ash", "dash", "bash", "zsh", "fish", "ksh", "mksh", "oksh", "loksh", "pdksh",
        "tcsh", "csh", "yash", "nu", "xonsh", "elvish", "pwsh", "rc", "es", "busybox",
    }
)  # fmt: skip
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_SIGHUP_BIT = 1 << 0  # signal 1 in /proc/PID/status bitmasks


@dataclass(frozen=True)
class ProcStat:
    state: str
    ppid: int
    pgrp: int
    tpgid: int
    start_ticks: int = 0
    comm: bytes = b""
    """The kernel's name for it: changes on exec (and with a process title)."""


@lru_cache(maxsize=1)
def boot_time() -> float:
    return psutil.boot_time()


def read_proc(path: str, limit: int = 1 << 20) -> bytes | None:
    """One /proc file, at most `limit` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        chunks = []
        size = 0
        while size < limit:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def read_stat(pid: int) -> ProcStat | None:
    """Fields of /proc/PID/stat after the command name (which may hold spaces and parens)."""
    raw = read_proc(f"/proc/{pid}/stat")
    if not raw:
        return None
    close = raw.rfind(b")")
    fields = raw[close + 2 :].split()
    try:
        return ProcStat(
            fields[0].decode(),
            int(fields[1]),
            int(fields[2]),
            int(fields[5]),
            int(fields[19]),
            raw[raw.find(b"(") + 1 : close],
        )
    except (IndexError, ValueError):
        return None


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time a process has used (fields 14 and 15 of its stat)."""
    raw = read_proc(f"/proc/{pid}/stat")
    if not raw:
        return None
    fields = raw[raw.rfind(b")") + 2 :].split()
    try:
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    except (IndexError, ValueError):
        return None


def start_time(stat: ProcStat) -> float:
    """Seconds since the epoch, computed as psutil computes `create_time()`."""
    return boot_time() + stat.start_ticks / _CLOCK_TICKS


def argv_of(pid: int) -> tuple[str, ...] | None:
    raw = read_proc(f"/proc/{pid}/cmdline")
    if not raw:  # a zombie or kernel thread has no argv
        return None
    return tuple(os.fsdecode(arg) for arg in raw.rstrip(b"\0").split(b"\0"))


def executable_of(pid: int) -> str | None:
    """What the process really runs (argv is only its claim: `exec -a vim ...`)."""
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None
    return exe.removesuffix(" (deleted)")  # upgraded since it started: the same path


def foreground_cwd(pane_pid: int, group: int | None) -> str:
    """The directory a pane is in, as tmux's `pane_current_path` finds it: its foreground
    process group's leader's, else its own process's (the tty's session leader)."""
    if group is None:
        stat = read_stat(pane_pid)
        group = stat.tpgid if stat is not None and stat.tpgid > 0 else None
    for pid in (group, pane_pid):
        if pid:
            try:
                return os.readlink(f"/proc/{pid}/cwd")
            except OSError:
                continue
    return ""


_KNOWN: dict[tuple[int, int, bytes], tuple[float, ProgramState]] = {}
KNOWN_FOR = 10.0
"""A process's argv and executable are read again after this long (or at once when its
pid, start time or kernel name change: another process, an exec, a new title)."""


def program_state(pid: int, stat: ProcStat | None = None) -> ProgramState | None:
    """What runs as `pid`. Every pane is looked at every poll; the same process is
    mostly read once (its argv and executable do not change without an exec)."""
    stat = stat or read_stat(pid)
    if stat is None:
        return None
    key = (pid, stat.start_ticks, stat.comm)
    now = time.monotonic()
    known = _KNOWN.get(key)
    # (a zombie has no argv: never the living process it was)
    if known is not None and now - known[0] < KNOWN_FOR and stat.state not in ("Z", "X", "x"):
        return known[1]
    argv = argv_of(pid)
    if argv is None:
        return None
    program = ProgramState(argv=argv, pid=pid, started_at=start_time(stat), exe=executable_of(pid))
    if len(_KNOWN) > 4096:  # processes come and go: forget the oldest half
        for old in sorted(_KNOWN, key=lambda k: _KNOWN[k][0])[:2048]:
            del _KNOWN[old]
    _KNOWN[key] = (now, program)
    return program


def children_of(pid: int) -> list[int]:
    """Direct children, from the kernel's own list (no scan of every process)."""
    raw = read_proc(f"/proc/{pid}/task/{pid}/children", 65536)
    return [int(child) for child in raw.split()] if raw else []


def environment_of(pid: int) -> dict[str, str]:
    raw = read_proc(f"/proc/{pid}/environ", 1 << 18)
    found: dict[str, str] = {}
    for item in (raw or b"").split(b"\0"):
        name, sep, value = item.partition(b"=")
        if sep and name:
            found[os.fsdecode(name)] = os.fsdecode(value)
    return found


def ignores_sighup(pid: int) -> bool:
    """SIGHUP ignored: how `nohup` leaves the program it started."""
    raw = read_proc(f"/proc/{pid}/status", 8192) or b""
    for line in raw.splitlines():
        if line.startswith(b"SigIgn:"):
            return bool(int(line.split()[1], 16) & _SIGHUP_BIT)
    return False


def bytes_written(pid: int) -> int | None:
    """`wchar` of /proc/PID/io: stands still only while the writer's output is stopped."""
    raw = read_proc(f"/proc/{pid}/io", 4096)
    if raw is None:
        return None
    for line in raw.splitlines():
        if line.startswith(b"wchar:"):
            return int(line.split()[1])
    return None


_SYS_WRITE = {"x86_64": b"1", "aarch64": b"64"}.get(os.uname().machine, b"1")


def blocked_in_write(pid: int) -> bool:
    """Sleeping inside write(): how a program stuck behind XOFF looks (FIELD_NOTES.md)."""
    raw = read_proc(f"/proc/{pid}/syscall", 64)
    return raw is not None and raw.split(b" ", 1)[0] == _SYS_WRITE


def is_interactive_shell(argv: tuple[str, ...]) -> bool:
    name = argv[0].rsplit("/", 1)[-1].lstrip("-") if argv else ""
    return name in SHELLS and "-c" not in argv[1:]


def is_shell_name(argv: tuple[str, ...]) -> bool:
    return bool(argv) and argv[0].rsplit("/", 1)[-1].lstrip("-") in SHELLS


def wrapped_shell(pid: int, argv: tuple[str, ...]) -> int | None:
    """The interactive shell a `SHELL -c COMMAND` wrapper runs as its only child, or None.
    A person's `set -g default-command ...` makes every pane start so (`sh -c /bin/sh`;
    bash and zsh exec the command, dash and fish wait for it): the shell the person types
    at is that child."""
    if not is_shell_name(argv) or is_interactive_shell(argv):
        return None
    children = [c for c in children_of(pid) if (s := read_stat(c)) is not None and s.state != "Z"]
    if len(children) != 1:
        return None
    inner = argv_of(children[0])
    return children[0] if inner is not None and is_interactive_shell(inner) else None
