"""Program strategies (DESIGN.md, "Program strategies"): agents resumed into their own
conversation, vim sessions, held REPLs, and the person's own `[[programs]]`."""

from recovery.programs.base import (
    MODES,
    Comeback,
    FileCheck,
    Mode,
    ProgramStrategy,
    program_word,
)
from recovery.programs.registry import STRATEGIES, strategy_for, strategy_named
from recovery.programs.user import entry_for, user_comeback

__all__ = [
    "MODES",
    "STRATEGIES",
    "Comeback",
    "FileCheck",
    "Mode",
    "ProgramStrategy",
    "entry_for",
    "program_word",
    "strategy_for",
    "strategy_named",
    "user_comeback",
]
