"""Choices persist (DESIGN, "What may run"): a per-pane choice made after seeing the exact
command, and vouching for an import, raise the ceiling for that pane's later checkpoints
too, not only for the restore they were made at. A new checkpoint of a session keeps, for
each pane whose command is still the one chosen for, the choice of the checkpoint before
it; a pane running one of the commands a vouched import ran in it gets `run` for exactly
that command. Nothing else is carried: a command the person typed there later was never
chosen or vouched for, and is judged by the rule alone."""

from __future__ import annotations

import re
from collections.abc import Sequence

from recovery.may_run.rule import command_text
from recovery.models import PaneChoice, PaneState, SessionState

_PARTS = re.compile(r"\s*(?:&&|\|\||;)\s*")


def with_carried_choices(
    session: SessionState, previous: SessionState, *, vouched: bool, allowed: Sequence[str]
) -> SessionState:
    """`session` (a fresh read) with the choices `previous` (its last checkpoint, the
    person's own or an import they vouched for: `vouched`) carries into it, pane by pane
    (by window and pane index: a restore keeps them). `allowed`: config `environment`, as
    the rule reads a command line."""
    before = {(w.index, p.index): p for w in previous.windows for p in w.panes}
    windows = []
    changed = False
    for window in session.windows:
        panes = []
        for pane in window.panes:
            old = before.get((window.index, pane.index))
            choice = _carried(pane, old, vouched, allowed) if old is not None else None
            if choice is not None and choice != pane.choice:
                pane = pane.model_copy(update={"choice": choice})
                changed = True
            panes.append(pane)
        windows.append(window.model_copy(update={"panes": tuple(panes)}))
    return session.model_copy(update={"windows": tuple(windows)}) if changed else session


def _carried(
    pane: PaneState, old: PaneState, vouched: bool, allowed: Sequence[str]
) -> PaneChoice | None:
    if pane.choice is not None or pane.typed_commands:
        return None  # (a fresh read has neither; an import's own are its file's)
    text = command_text(pane, allowed)
    if not text:
        return None
    if old.choice is not None and old.choice.command == text:
        return old.choice
    if vouched and text in vouched_commands(old):
        return PaneChoice(mode="run", command=text)
    return None


def vouched_commands(pane: PaneState) -> set[str]:
    """The commands a vouched import ran in a pane: each line, and each command of a line
    joined by `&&`, `||` or `;` (the program left running is one of those)."""
    lines = [*pane.typed_commands, *([pane.start_command] if not pane.is_shell else [])]
    found = set()
    for line in lines:
        found.add(line.strip())
        found.update(part for part in _PARTS.split(line.strip()) if part)
    return found
