"""How a pane's program comes back through its strategy (`recovery.programs`): the
strategy says what command, where and by default how; the one rule (`recovery.may_run`)
judges that command as any other: its decision is the ceiling, the strategy's default
or the person's choice (run, hold, shell) may only lower it. Pure: what only the machine
knows (does the conversation still exist, is the session file the person's and
unchanged) comes through `ProgramFacts`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from config.settings import Settings
from recovery.may_run import Decision, LaunchMode
from recovery.may_run.text import visible
from recovery.models import PaneState, Resume
from recovery.programs import (
    MODES,
    Comeback,
    FileCheck,
    Mode,
    entry_for,
    strategy_for,
    strategy_named,
    user_comeback,
)


@dataclass
class ProgramFacts:
    """The machine's answers a come-back needs (the adapter's I/O behind them)."""

    conversation_exists: Callable[[Resume], bool | None] = field(default=lambda _r: None)
    """False: the conversation is gone (deleted, retention); None: cannot tell."""
    file_vouched: Callable[[FileCheck], bool] = field(default=lambda _c: False)


def comeback_for(pane: PaneState, settings: Settings, facts: ProgramFacts) -> Comeback | None:
    """How the pane's program comes back through a strategy, or None (no strategy: the
    recorded command as the rule says)."""
    program = pane.program
    if program is None or not program.argv or len(pane.job) > 1 or pane.typed_commands:
        return None
    entry = entry_for(program.argv, settings.programs)
    if entry is not None:
        return user_comeback(entry, program.argv, pane.cwd)
    resume = pane.resume
    strategy = strategy_named(resume.strategy) if resume else strategy_for(program)
    if strategy is None:
        return None
    if resume is None:
        if strategy.captures:  # an older checkpoint: its recorded command, as it was
            return None
        resume = Resume(strategy=strategy.name, argv=program.argv, cwd=pane.cwd)
    comeback = strategy.come_back(resume, settings)
    if comeback.file_check is not None and not facts.file_vouched(comeback.file_check):
        return comeback.fallback
    if resume.session_id and facts.conversation_exists(resume) is False:
        gone = f"{strategy.name} conversation {resume.session_id} is gone (deleted or aged out)"
        return Comeback((), gone, cwd=comeback.cwd, gone=gone)
    return comeback


def mode_of(decision: Decision) -> Mode:
    if decision.mode is LaunchMode.RUN:
        return "run"
    return "hold" if decision.mode is LaunchMode.HOLD else "shell"


def capped(decision: Decision, cap: Mode | None, why: str) -> Decision:
    """The decision, lowered to `cap` if that is lower (a choice never raises it)."""
    if cap is None or MODES.index(cap) >= MODES.index(mode_of(decision)):
        return decision
    if cap == "hold":
        return Decision(mode=LaunchMode.HOLD, reason=why, text=decision.text)
    shown = f": {decision.text}" if decision.text else ""
    return Decision(mode=LaunchMode.SHELL, reason=f"{why}{shown}", text=decision.text)


def chosen_mode(choices: dict[str, Mode], where: str) -> Mode | None:
    """A person's `--run/--hold/--shell WINDOW.PANE` (or `all`) for this pane."""
    return choices.get(where) or choices.get("all")


def describe_comeback(comeback: Comeback) -> str:
    notes = "; ".join(comeback.notes)
    return visible(comeback.describe + (f" ({notes})" if notes else ""))
