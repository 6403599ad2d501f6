"""Process facts tmux does not give: foreground process group, full argv, start time, state.

Everything here is bounded per pane (a few /proc reads) and never raises for a process
that vanished meanwhile: it just reports less.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

import psutil

from recovery.models import ProgramState

SHELLS = frozenset(
    {
        "sh", "ash", "dash", "bash", "zsh", "fish", "ksh", "mksh", "oksh", "loksh", "pdksh",
        "tcsh", "csh", "yash", "nu", "xonsh", "elvish", "pwsh", "rc", "es", "busybox",
    }
)  # fmt: skip


@dataclass(frozen=True)
class ProcStat:
    state: str
    ppid: int
    pgrp: int
    tpgid: int
    start_ticks: int = 0


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_BOOT_TIME: float | None = None


def _boot_time() -> float:
    global _BOOT_TIME
    if _BOOT_TIME is None:
        _BOOT_TIME = psutil.boot_time()
    return _BOOT_TIME


def _read(path: str, limit: int = 1 << 20) -> bytes | None:
    """One /proc file; plain os calls (this runs for every pane at every poll)."""
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
    raw = _read(f"/proc/{pid}/stat")
    if not raw:
        return None
    fields = raw[raw.rfind(b")") + 2 :].split()
    try:
        return ProcStat(
            fields[0].decode(), int(fields[1]), int(fields[2]), int(fields[5]), int(fields[19])
        )
    except (IndexError, ValueError):
        return None


def start_time(stat: ProcStat) -> float:
    """Seconds since the epoch, computed as psutil computes `create_time()`."""
    return _boot_time() + stat.start_ticks / _CLOCK_TICKS


def program_state(pid: int, stat: ProcStat | None = None) -> ProgramState | None:
    stat = stat or read_stat(pid)
    raw = _read(f"/proc/{pid}/cmdline")
    if stat is None or not raw:  # a zombie or kernel thread has no argv
        return None
    argv = raw.rstrip(b"\0").split(b"\0")
    return ProgramState(
        argv=tuple(os.fsdecode(arg) for arg in argv),
        pid=pid,
        started_at=start_time(stat),
        exe=executable_of(pid),
    )


def executable_of(pid: int) -> str | None:
    """What the process really runs (argv is only its claim: `exec -a vim ...`)."""
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None
    return exe.removesuffix(" (deleted)")  # upgraded since it started: the same path


def is_interactive_shell(argv: tuple[str, ...]) -> bool:
    name = argv[0].rsplit("/", 1)[-1].lstrip("-") if argv else ""
    return name in SHELLS and "-c" not in argv[1:]


def is_shell_name(argv: tuple[str, ...]) -> bool:
    return bool(argv) and argv[0].rsplit("/", 1)[-1].lstrip("-") in SHELLS


@dataclass(frozen=True)
class PaneProcesses:
    process: ProgramState | None
    is_shell: bool
    program: ProgramState | None
    stopped: bool
    writer_blocked: bool = False
    foreground_group: int | None = None
    written: int | None = None


def bytes_written(pid: int) -> int | None:
    """`wchar` of /proc/PID/io: stands still only while the writer's output is stopped."""
    raw = _read(f"/proc/{pid}/io", 4096)
    if raw is None:
        return None
    for line in raw.splitlines():
        if line.startswith(b"wchar:"):
            return int(line.split()[1])
    return None


_SYS_WRITE = {"x86_64": b"1", "aarch64": b"64"}.get(os.uname().machine, b"1")


def blocked_in_write(pid: int) -> bool:
    """Sleeping inside write(): how a program stuck behind XOFF looks (FIELD_NOTES.md)."""
    raw = _read(f"/proc/{pid}/syscall", 64)
    return raw is not None and raw.split(b" ", 1)[0] == _SYS_WRITE


def probe_pane(pane_pid: int) -> PaneProcesses:
    """What runs in a pane: its own process, whether that is a shell, the foreground
    program, whether it is stopped or blocked writing. Each /proc file is read once."""
    stat = read_stat(pane_pid)
    process = program_state(pane_pid, stat) if stat is not None else None
    if process is None or stat is None:
        return PaneProcesses(None, True, None, False)
    group = stat.tpgid if stat.tpgid > 0 else None
    interactive = is_interactive_shell(process.argv)
    leader_stat: ProcStat | None
    if group is None or group == pane_pid:
        if interactive:
            program, is_shell, leader_stat = None, True, stat
        else:
            child = _only_child(pane_pid) if is_shell_name(process.argv) else None
            program, is_shell = child or process, False
            leader_stat = read_stat(child.pid) if child is not None else stat
        stopped = stat.state == "T" or (leader_stat is not None and leader_stat.state == "T")
    else:
        leader_stat = read_stat(group)
        program = program_state(group, leader_stat) if leader_stat is not None else None
        stopped = leader_stat is not None and leader_stat.state == "T"
        if not interactive and program is not None and is_shell_name(process.argv):
            is_shell = False  # `sh -c 'tail -f x'` as the pane's command: the program matters
        else:
            is_shell = interactive
            if program is None and not interactive:
                program = process
    leader = program or process
    blocked = (
        not stopped
        and leader_stat is not None
        and leader_stat.state == "S"
        and blocked_in_write(leader.pid)
    )
    written = bytes_written(leader.pid) if blocked else None
    return PaneProcesses(process, is_shell, program, stopped, blocked, group, written)


def _only_child(pid: int, depth: int = 4) -> ProgramState | None:
    """The program a non-interactive `sh -c` runs, when it runs exactly one; wrappers
    (`sh -c "sh -c 'prog'"`, as tmux itself adds one) are looked through."""
    with contextlib.suppress(psutil.Error):
        children = psutil.Process(pid).children()
        if len(children) == 1:
            child = program_state(children[0].pid)
            wrapper = child is not None and is_shell_name(child.argv)
            if child is not None and wrapper and depth > 0 and not is_interactive_shell(child.argv):
                return _only_child(child.pid, depth - 1) or child
            return child
    return None


def _alive_as_recorded(program: ProgramState) -> bool:
    """The very process (same pid AND start time), and not a zombie or exiting."""
    stat = read_stat(program.pid)
    return (
        stat is not None
        and stat.state not in ("Z", "X", "x")
        and abs(start_time(stat) - program.started_at) < 0.05
    )


def survivors(programs: Sequence[ProgramState], settle: float = 0.5) -> set[int]:
    """Pids of the recorded programs that really survived: still alive after a bounded
    moment. A crash or a closed session leaves its programs dying of SIGHUP, then zombies
    until something reaps them (0.5-1 s here, never in a container whose init does not
    reap): pid and start time alone would call them survivors and start nothing."""
    candidates = [p for p in programs if p.pid > 0 and _alive_as_recorded(p)]
    deadline = time.monotonic() + settle
    while candidates and time.monotonic() < deadline:
        time.sleep(0.02)
        candidates = [p for p in candidates if _alive_as_recorded(p)]
    return {p.pid for p in candidates}
