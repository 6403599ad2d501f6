"""What a restore sets besides panes and their programs: tmux options (a window's, the
session's, the whole server's) and environments (the session's, a pane's). Each is judged
by its rule (`recovery.tmux_options`, `recovery.may_run.environment`); what is not set is
named in the plan's warnings, never silently dropped."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from recovery.may_run.environment import file_environment_refusal
from recovery.may_run.text import visible
from recovery.tmux_options import Scope, option_refusal

Pairs = tuple[tuple[str, str], ...]


def settable_options(
    options: Pairs, scope: Scope, where: str, *, vouched: bool, warnings: list[str]
) -> Pairs:
    """The options that may be set; each other one is named in `warnings`."""

    def refusal(name: str, value: str) -> str | None:
        return option_refusal(scope, name, value, vouched=vouched)

    return _kept(options, refusal, where, warnings)


def settable_environment(
    pairs: Pairs, where: str, allowed: Sequence[str], *, vouched: bool, warnings: list[str]
) -> Pairs:
    """The variables that may be set; each other one is named in `warnings`."""

    def refusal(name: str, value: str) -> str | None:
        why = file_environment_refusal(name, value, allowed, vouched=vouched)
        return None if why is None else f"environment {why}: not set"

    return _kept(pairs, refusal, where, warnings)


def _kept(
    pairs: Pairs, refusal: Callable[[str, str], str | None], where: str, warnings: list[str]
) -> Pairs:
    kept = []
    for name, value in pairs:
        why = refusal(name, value)
        if why is None:
            kept.append((name, value))
        else:
            warnings.append(visible(f"{where}: {why}"))
    return tuple(kept)
