"""Process facts tmux does not give: foreground process group, full argv, start time, state.

Everything here is bounded per pane (a few /proc reads) and never raises for a process
that vanished meanwhile: it just reports less.
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass
from pathlib import Path

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


def read_stat(pid: int) -> ProcStat | None:
    """Fields of /proc/PID/stat after the command name (which may hold spaces and parens)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = raw[raw.rfind(b")") + 2 :].split()
    try:
        return ProcStat(fields[0].decode(), int(fields[1]), int(fields[2]), int(fields[5]))
    except (IndexError, ValueError):
        return None


def program_state(pid: int) -> ProgramState | None:
    try:
        process = psutil.Process(pid)
        with process.oneshot():
            argv = process.cmdline()
            started = process.create_time()
    except (psutil.Error, OSError):
        return None
    if not argv:  # a zombie or kernel thread has no argv
        return None
    return ProgramState(argv=tuple(argv), pid=pid, started_at=started)


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


def probe_pane(pane_pid: int) -> PaneProcesses:
    """What runs in a pane: its own process, whether that is a shell, the foreground program."""
    process = program_state(pane_pid)
    stat = read_stat(pane_pid)
    if process is None or stat is None:
        return PaneProcesses(None, True, None, False)
    interactive = is_interactive_shell(process.argv)
    foreground_pid = stat.tpgid
    if foreground_pid <= 0 or foreground_pid == pane_pid:
        if interactive:
            return PaneProcesses(process, True, None, stat.state == "T")
        program = _only_child(pane_pid) if is_shell_name(process.argv) else None
        return PaneProcesses(process, False, program or process, stat.state == "T")
    program = program_state(foreground_pid)
    fg_stat = read_stat(foreground_pid)
    stopped = fg_stat is not None and fg_stat.state == "T"
    if not interactive and program is not None and is_shell_name(process.argv):
        # `sh -c 'tail -f x'` as the pane's command: the program, not the wrapper, matters.
        return PaneProcesses(process, False, program, stopped)
    return PaneProcesses(
        process, interactive, program or (None if interactive else process), stopped
    )


def _only_child(pid: int, depth: int = 4) -> ProgramState | None:
    """The program a non-interactive `sh -c` runs, when it runs exactly one; wrappers
    (`sh -c "sh -c 'prog'"`, as tmux itself adds one) are looked through."""
    with contextlib.suppress(psutil.Error):
        children = psutil.Process(pid).children()
        if len(children) == 1:
            child = program_state(children[0].pid)
            wrapper = child is not None and is_shell_name(child.argv)
            if wrapper and depth > 0 and not is_interactive_shell(child.argv):  # type: ignore[union-attr]
                return _only_child(child.pid, depth - 1) or child  # type: ignore[union-attr]
            return child
    return None


def process_is_running(program: ProgramState) -> bool:
    """The very process of a checkpoint still runs (same pid AND same start time)."""
    try:
        started = psutil.Process(program.pid).create_time()
    except (psutil.Error, OSError):
        return False
    return abs(started - program.started_at) < 0.05


def boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def host_name() -> str:
    return socket.gethostname()
