"""Process facts tmux does not give, per pane: whether its own process is an interactive
shell, the foreground job (every process, in pipeline order, with its wrappers), whether
any of it is stopped or blocked writing; and which recorded programs really survived a
crash. Bounded per pane (a few /proc reads); a vanished process just reports less.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from guardian.tmux.jobs import Stage, job_stages, with_wrappers
from guardian.tmux.procfs import (
    SHELLS,
    ProcStat,
    blocked_in_write,
    bytes_written,
    is_interactive_shell,
    is_shell_name,
    program_state,
    read_stat,
    start_time,
    wrapped_shell,
)
from recovery.models import ProgramState

__all__ = ["SHELLS", "PaneProcesses", "probe_pane", "survivors"]


@dataclass(frozen=True)
class PaneProcesses:
    process: ProgramState | None
    is_shell: bool
    program: ProgramState | None
    stopped: bool
    writer_blocked: bool = False
    foreground_group: int | None = None
    written: int | None = None
    job: tuple[ProgramState, ...] = ()


_IDLE: dict[int, tuple[ProcStat, ProgramState, PaneProcesses]] = {}
"""The last answer for each pane process that was an idle interactive shell."""


def probe_pane(pane_pid: int) -> PaneProcesses:
    """What runs in a pane. An idle interactive shell (most panes, most of the time)
    costs one /proc read: the same process, in the same state, at its own prompt, gives
    the same answer as at the last poll."""
    stat = read_stat(pane_pid)
    process = program_state(pane_pid, stat) if stat is not None else None
    if process is None or stat is None:
        return PaneProcesses(None, True, None, False)
    idle = _IDLE.get(pane_pid)
    if idle is not None and idle[0] == stat and idle[1] is process:
        return idle[2]
    group = stat.tpgid if stat.tpgid > 0 else None
    interactive = is_interactive_shell(process.argv)
    inner = None if interactive else wrapped_shell(pane_pid, process.argv)
    if inner is not None:  # a person's default-command: the shell is the wrapper's child
        return probe_pane(inner)
    stages = _foreground(pane_pid, stat, process, group, interactive)
    programs = with_wrappers(stages, pane_pid) if interactive else [s.program for s in stages]
    stopped = stat.state == "T" or any(s.stat.state == "T" for s in stages)
    writer = next(
        (
            s
            for s in stages
            if not stopped and s.stat.state == "S" and blocked_in_write(s.program.pid)
        ),
        None,
    )
    wrapped = len(programs) > 1 or any(p.env or p.nohup for p in programs)
    facts = PaneProcesses(
        process=process,
        is_shell=interactive,
        program=programs[0] if programs else None,
        stopped=stopped,
        writer_blocked=writer is not None,
        foreground_group=group,
        written=bytes_written(writer.program.pid) if writer is not None else None,
        job=tuple(programs) if wrapped else (),
    )
    if interactive and group in (None, pane_pid):  # at its prompt: nothing else to see
        if len(_IDLE) > 8192:  # panes come and go
            _IDLE.clear()
        _IDLE[pane_pid] = (stat, process, facts)
    else:
        _IDLE.pop(pane_pid, None)
    return facts


def _writing(stage: Stage) -> bool:
    """Asleep inside write(): backpressure, or XOFF (told apart across polls)."""
    return stage.stat.state == "S" and blocked_in_write(stage.program.pid)


def _foreground(
    pane_pid: int,
    stat: ProcStat,
    process: ProgramState,
    group: int | None,
    interactive: bool,
) -> list[Stage]:
    """The stages of what runs in the foreground (none for an idle shell)."""
    if interactive:
        if group is None or group == pane_pid:
            return []
        stages = job_stages(pane_pid, group)
        if stages:
            return stages
        leader_stat = read_stat(group)  # a job that is not the shell's child: its leader
        leader = program_state(group, leader_stat) if leader_stat is not None else None
        return [Stage(leader, leader_stat)] if leader and leader_stat else []
    if is_shell_name(process.argv):  # `sh -c 'cmd'`: tmux's wrapper of a pane's command
        stages = job_stages(pane_pid, None)
        if stages:
            return stages
    return [Stage(process, stat)]


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
