"""The foreground job of a pane, as a person typed it: every process of its foreground
process group in pipeline order (`tail -f log | grep x` is two), with the wrappers that
matter — variables given on the command line (`LESS=-R less f`, `env VAR=x ...`) and
`nohup` — read from /proc. What a stage's environment or dispositions are does not change
while it runs: they are read once per process (cached by pid and start time)."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache

from guardian.tmux.procfs import (
    ProcStat,
    children_of,
    environment_of,
    ignores_sighup,
    is_interactive_shell,
    is_shell_name,
    program_state,
    read_stat,
)
from recovery.may_run.environment import NEVER
from recovery.models import ProgramState

# Set by shells and tmux for every child: never something a person typed.
_NOISE = frozenset(
    {"_", "PWD", "OLDPWD", "SHLVL", "LINES", "COLUMNS", "TMUX", "TMUX_PANE", "PS1", "PS2"}
)
# Never written into a checkpoint (only the name is, so a restore can say so).
SECRET_NAMES = ("*TOKEN*", "*SECRET*", "*PASSW*", "*KEY*", "*CREDENTIAL*", "*AUTH*", "*COOKIE*")
MAX_ENV_VALUE = 4096


@dataclass(frozen=True)
class Stage:
    program: ProgramState
    stat: ProcStat


def job_stages(parent: int, group: int | None, depth: int = 4) -> list[Stage]:
    """The children of `parent` in process group `group` (any, when None), oldest first; a
    non-interactive shell wrapper (`sh -c 'a | b'`, as tmux starts a pane's command) is
    looked through to the programs it runs."""
    stages: list[Stage] = []
    for child in children_of(parent):
        stat = read_stat(child)
        if stat is None or stat.state in ("Z", "X", "x"):
            continue
        if group is not None and stat.pgrp != group:
            continue
        program = program_state(child, stat)
        if program is None:
            continue
        wrapper = is_shell_name(program.argv) and not is_interactive_shell(program.argv)
        if wrapper and depth > 0:
            inner = job_stages(child, None, depth - 1)
            if inner:
                stages += inner
                continue
        stages.append(Stage(program, stat))
    stages.sort(key=lambda s: (s.stat.start_ticks, s.program.pid))
    return stages


def with_wrappers(stages: list[Stage], shell_pid: int) -> list[ProgramState]:
    """Each stage's program with the variables it got beyond its shell's, and nohup."""
    if not stages:
        return []
    shell = read_stat(shell_pid)
    shell_key = (shell_pid, shell.start_ticks if shell else 0)
    programs = []
    for stage in stages:
        env, withheld, nohup = _wrappers((stage.program.pid, stage.stat.start_ticks), shell_key)
        programs.append(
            stage.program.model_copy(update={"env": env, "withheld": withheld, "nohup": nohup})
        )
    return programs


@lru_cache(maxsize=4096)
def _wrappers(
    stage: tuple[int, int], shell: tuple[int, int]
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...], bool]:
    own = environment_of(stage[0])
    inherited = _shell_environment(shell)
    env: list[tuple[str, str]] = []
    withheld: list[str] = []
    for name, value in sorted(own.items()):
        if name in _NOISE or inherited.get(name) == value or _never_returns(name):
            continue
        if any(fnmatchcase(name.upper(), pattern) for pattern in SECRET_NAMES):
            withheld.append(name)
        elif len(value) <= MAX_ENV_VALUE:
            env.append((name, value))
    nohup = ignores_sighup(stage[0]) and not ignores_sighup(shell[0])
    return tuple(env), tuple(withheld), nohup


def _never_returns(name: str) -> bool:
    """PATH and the like never come back (the rule's NEVER list): not worth recording (a
    login shell's profile changes PATH for every program it starts)."""
    return any(fnmatchcase(name, pattern) for pattern in NEVER)


@lru_cache(maxsize=1024)
def _shell_environment(shell: tuple[int, int]) -> dict[str, str]:
    return environment_of(shell[0])
