"""Process facts tmux does not give: foreground process group, full argv, start time, state.

Everything here is bounded per pane (a few /proc reads) and never raises for a process
that vanished meanwhile: it just reports less.
"""

from __future__ import annotations

import contextlib
import os
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
    writer_blocked: bool = False
    foreground_group: int | None = None


_SYS_WRITE = {"x86_64": "1", "aarch64": "64"}.get(os.uname().machine, "1")


def blocked_in_write(pid: int) -> bool:
    """Sleeping inside write(): how a program stuck behind XOFF looks (FIELD_NOTES.md)."""
    try:
        syscall = Path(f"/proc/{pid}/syscall").read_text().split(" ", 1)[0]
    except OSError:
        return False
    return syscall == _SYS_WRITE


def probe_pane(pane_pid: int) -> PaneProcesses:
    """What runs in a pane: its own process, whether that is a shell, the foreground program."""
    facts = _probe_pane(pane_pid)
    pane_stat = read_stat(pane_pid)
    group = pane_stat.tpgid if pane_stat is not None and pane_stat.tpgid > 0 else None
    blocked = False
    leader = facts.program or facts.process
    if leader is not None and not facts.stopped:
        stat = read_stat(leader.pid)
        blocked = stat is not None and stat.state == "S" and blocked_in_write(leader.pid)
    return PaneProcesses(
        facts.process, facts.is_shell, facts.program, facts.stopped, blocked, group
    )


def _probe_pane(pane_pid: int) -> PaneProcesses:
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
        # tmux resumes only the pane's top process: a stopped child stays stopped.
        stopped = stat.state == "T" or (program is not None and process_state(program.pid) == "T")
        return PaneProcesses(process, False, program or process, stopped)
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


# -- servers -------------------------------------------------------------------------------

_LISTENING = 0x10000  # __SO_ACCEPTCON in /proc/net/unix


def listening_inodes(socket_path: str) -> set[int]:
    """Inodes of unix sockets listening on `socket_path`. The kernel keeps the bound path
    after the file was deleted, so a server whose socket vanished is still found."""
    inodes: set[int] = set()
    try:
        lines = Path("/proc/net/unix").read_text(errors="replace").splitlines()[1:]
    except OSError:
        return inodes
    for line in lines:
        fields = line.split(None, 7)
        if len(fields) == 8 and fields[7] == socket_path and int(fields[3], 16) & _LISTENING:
            inodes.add(int(fields[6]))
    return inodes


def tmux_server_pids() -> list[int]:
    """Processes named `tmux: server` (their cmdline shows the client's argv: do not trust it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_bytes().strip() == b"tmux: server":
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def server_listeners(socket_path: str) -> tuple[int, ...]:
    """Pids of the tmux servers that listen on `socket_path` (two: a split brain)."""
    inodes = listening_inodes(socket_path)
    if not inodes:
        return ()
    wanted = {f"socket:[{inode}]" for inode in inodes}
    found = []
    for pid in tmux_server_pids():
        with contextlib.suppress(OSError):
            fd_dir = Path(f"/proc/{pid}/fd")
            if any(os.readlink(fd) in wanted for fd in fd_dir.iterdir()):
                found.append(pid)
    return tuple(sorted(found))


def process_state(pid: int) -> str | None:
    stat = read_stat(pid)
    return stat.state if stat is not None else None


def foreign_binary(pid: int, installed: str | None) -> str | None:
    """`/proc/PID/exe` when the server runs a binary other than the installed tmux (it was
    upgraded or replaced since the server started); None when they are the same."""
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None
    if exe.endswith(" (deleted)"):
        return f"/proc/{pid}/exe"
    if installed and os.path.realpath(installed) != os.path.realpath(exe):
        return f"/proc/{pid}/exe"
    return None


def process_gone(pid: int) -> bool:
    """The restart race: a pid that is gone or a zombie no longer holds anything."""
    state = process_state(pid)
    return state is None or state in ("Z", "X")
