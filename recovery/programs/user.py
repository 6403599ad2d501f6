"""A person's own program strategies (config `[[programs]]`): matched on the command line
before the built-in ones; `mode` is how the pane comes back by default, `restore` an
optional template for the command. What may run still decides: a template's command must
pass the same rule as any other, and `run` never raises what the rule allows."""

from __future__ import annotations

import shlex
from fnmatch import fnmatchcase

from config.programs import ProgramEntry
from recovery.models import ProgramState
from recovery.programs.base import Comeback, program_word


def entry_for(argv: tuple[str, ...], entries: tuple[ProgramEntry, ...]) -> ProgramEntry | None:
    """The first entry whose `match` glob matches the command line (`npm run *`)."""
    line = shlex.join(argv)
    return next((e for e in entries if fnmatchcase(line, e.match)), None)


def user_comeback(entry: ProgramEntry, argv: tuple[str, ...], cwd: str) -> Comeback:
    """The entry's command (its template filled with shell-quoted fields), or the same one."""
    name = program_word(ProgramState(argv=argv, pid=0, started_at=0))[0]
    how = f"{name}: your program '{entry.name}', {entry.mode}"
    if entry.restore is None:
        return Comeback(argv, how, mode=entry.mode)
    line = entry.restore.format(
        argv=shlex.join(argv),
        args=shlex.join(argv[1:]),
        program=shlex.quote(name),
        cwd=shlex.quote(cwd),
    )
    try:
        made = tuple(shlex.split(line))
    except ValueError:
        made = ()
    if not made:
        how += " (its restore template made no command: the same one)"
        return Comeback(argv, how, mode=entry.mode)
    return Comeback(made, f"{how}: {shlex.join(made)}", mode=entry.mode)
