"""What every importer shares: the error that names the line or key at fault, how a
command line becomes a program, and how a parsed session becomes a checkpoint."""

from __future__ import annotations

import shlex
from datetime import datetime

from recovery.checkpoint import Checkpoint
from recovery.models import ProgramState, ServerInfo, SessionState
from recovery.store import new_checkpoint_id
from recovery.structure import structure_key

SHELL_NAMES = frozenset({"sh", "bash", "zsh", "fish", "dash", "ksh", "tcsh", "csh", "ash"})


class ImportError_(ValueError):
    """A file that cannot be imported; the message names the line (or key) and why."""


def program_of(command: str) -> ProgramState | None:
    try:
        argv = tuple(shlex.split(command))
    except ValueError:
        argv = tuple(command.split())
    if not argv or argv[0].rsplit("/", 1)[-1].lstrip("-") in SHELL_NAMES:
        return None
    return ProgramState(argv=argv, pid=0, started_at=0.0)


def commands_program(commands: list[str]) -> ProgramState | None:
    """tmuxp runs a pane's commands in turn: one command is that program; several become
    one `sh -c` line (not on the allowlist, so restore types it rather than runs it)."""
    if not commands:
        return None
    if len(commands) == 1:
        return program_of(commands[0])
    return ProgramState(argv=("sh", "-c", "; ".join(commands)), pid=0, started_at=0.0)


def checkpoint_of(
    session: SessionState, server: ServerInfo, when: datetime, reason: str
) -> Checkpoint:
    return Checkpoint(
        id=new_checkpoint_id(when),
        created_at=when,
        reason=reason,
        server=server,
        session=session,
        structure=structure_key(session),
    )
