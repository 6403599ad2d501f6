"""What every importer shares: the error that names the line or key at fault, the bounds
on what is read, how a pane's commands are kept (as the shell text they are), and how a
parsed session becomes a checkpoint of foreign origin."""

from __future__ import annotations

from datetime import datetime

from recovery.checkpoint import Checkpoint
from recovery.models import ServerInfo, SessionState
from recovery.store import new_checkpoint_id
from recovery.structure import structure_key

MAX_FILE_BYTES = 4 * 1024 * 1024
"""A workspace or save file of thousands of panes stays far below this."""
SHELL_NAMES = frozenset({"sh", "bash", "zsh", "fish", "dash", "ksh", "tcsh", "csh", "ash"})


class ImportError_(ValueError):
    """A file that cannot be imported; the message names the line (or key) and why."""


def typed_commands(commands: list[str]) -> tuple[str, ...]:
    """A pane's commands as shell text, as written: never split into words and joined
    again (`tail -f logs/*.log | grep ERROR` stays a pipeline with its glob). A bare shell
    name starts nothing more than the pane's shell."""
    kept = [c for c in commands if c.strip()]
    if len(kept) == 1 and kept[0].strip().rsplit("/", 1)[-1] in SHELL_NAMES:
        return ()
    return tuple(kept)


def checkpoint_of(
    session: SessionState, server: ServerInfo, when: datetime, reason: str, *, vouched: bool
) -> Checkpoint:
    """An imported session: of `import` origin, so its commands are held until the person
    vouches for them (`vouched`)."""
    return Checkpoint(
        id=new_checkpoint_id(when),
        created_at=when,
        reason=reason,
        server=server,
        session=session,
        structure=structure_key(session),
        origin="import",
        vouched=vouched,
    )
