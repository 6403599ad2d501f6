"""The one list of built-in program strategies. Adding one: a small module beside this
one, a line here, and its tests."""

from __future__ import annotations

from recovery.models import ProgramState
from recovery.programs.agents import Aider, Claude, Codex, Gemini, OpenCode
from recovery.programs.base import ProgramStrategy
from recovery.programs.editors import Repl, Vim

STRATEGIES: tuple[ProgramStrategy, ...] = (
    Claude(),
    Codex(),
    OpenCode(),
    Gemini(),
    Aider(),
    Vim(),
    Repl(),
)


def strategy_for(program: ProgramState) -> ProgramStrategy | None:
    """The strategy that recognizes this program, if any."""
    return next((s for s in STRATEGIES if s.recognizes(program)), None)


def strategy_named(name: str) -> ProgramStrategy | None:
    return next((s for s in STRATEGIES if s.name == name), None)
