"""What may run (DESIGN.md): the one rule that decides, for every source, whether a
recorded command starts again, is typed at the prompt and held, or is refused."""

from recovery.may_run.rule import (
    Decision,
    Executable,
    LaunchMode,
    Recorded,
    Resolver,
    Trust,
    command_text,
    decide,
)

__all__ = [
    "Decision",
    "Executable",
    "LaunchMode",
    "Recorded",
    "Resolver",
    "Trust",
    "command_text",
    "decide",
]
