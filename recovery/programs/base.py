"""A program strategy: it recognizes a program in a pane's foreground job, and turns what
was captured while it ran (a `Resume`) into how it comes back. Pure: the capture's I/O is
the adapter's (`guardian.programs`); what may run is still `recovery.may_run`'s to say.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from config.settings import Settings
from recovery.may_run.arguments import without_bypass
from recovery.models import INTERPRETERS, ProgramState, Resume

Mode = Literal["run", "hold", "shell"]
MODES: tuple[Mode, ...] = ("shell", "hold", "run")
"""From lowest to highest: a choice may always lower how a pane comes back."""

_SCRIPT_SUFFIXES = (".js", ".mjs", ".cjs", ".py")


@dataclass(frozen=True)
class Comeback:
    """How a program comes back, before the one rule judges the command."""

    argv: tuple[str, ...]
    describe: str
    """`claude: resumes conversation 8b34a1c2… (exact)`: said by restore and the UI."""
    cwd: str | None = None
    """Where it starts (an agent's real directory); None: the pane's."""
    mode: Mode = "run"
    """The strategy's default: `hold` for a REPL. A choice may lower it, never raise it."""
    exempt: tuple[tuple[str, str], ...] = ()
    """Option and value the strategy vouches for (`-S` and a Session.vim it verified)."""
    notes: tuple[str, ...] = ()
    """Said in the output: an option taken out, and why."""
    gone: str | None = None
    """The conversation is gone: a shell in its directory, and this reason."""
    file_check: FileCheck | None = None
    """A file the come-back loads and the adapter must vouch for first; if it cannot,
    `fallback` is how it comes back instead."""
    fallback: Comeback | None = None
    tell: bool = False
    """Less than it could be (a guessed id, a session file not loaded): said on restore,
    not only in a dry run."""


@dataclass(frozen=True)
class FileCheck:
    """A session file to check before it is loaded: the person's own, not writable by
    others, and (unless their own command line loaded it) its digest unchanged."""

    path: str
    sha256: str | None
    loaded_by_person: bool


def program_word(program: ProgramState) -> tuple[str, int]:
    """The program's name and where its own arguments start: `claude` for `claude ...`,
    `codex` for `node /usr/lib/node_modules/@openai/codex/bin/codex.js ...`."""
    argv = program.argv
    name = os.path.basename(argv[0]).lstrip("-") if argv else ""
    if name.rstrip("0123456789.") in INTERPRETERS and len(argv) > 1 and argv[1][:1] != "-":
        script = os.path.basename(argv[1])
        for suffix in _SCRIPT_SUFFIXES:
            script = script.removesuffix(suffix)
        return script, 2
    return name, 1


def split_arguments(
    arguments: Sequence[str], value_options: frozenset[str]
) -> tuple[list[list[str]], list[str]]:
    """Options (each with its value, if it takes one) and positional arguments."""
    options: list[list[str]] = []
    positionals: list[str] = []
    words = list(arguments)
    position = 0
    while position < len(words):
        word = words[position]
        if word == "--":
            positionals += words[position + 1 :]
            break
        if word.startswith("-") and len(word) > 1:
            takes_value = word in value_options and "=" not in word
            if takes_value and position + 1 < len(words):
                options.append([word, words[position + 1]])
                position += 2
                continue
            options.append([word])
        else:
            positionals.append(word)
        position += 1
    return options, positionals


@dataclass(frozen=True)
class ProgramStrategy:
    """One kind of program. Subclasses set the class attributes and `come_back`."""

    name: ClassVar[str]
    command: ClassVar[str]
    """The name it is started by again (`codex`, even when a Node launcher ran it)."""
    known_as: ClassVar[frozenset[str]]
    value_options: ClassVar[frozenset[str]] = frozenset()
    """Options that take a value (so a value is not taken for a prompt)."""
    dropped: ClassVar[frozenset[str]] = frozenset()
    """Options left out when it comes back: old resume options, one-shot prompts."""
    keeps_positionals: ClassVar[bool] = False
    """Positional arguments come back (files for aider); for agents they are a prompt,
    which must never be sent a second time."""
    captures: ClassVar[bool] = True
    """Captured while it runs (by `guardian.programs`); False: decided from argv alone."""

    def recognizes(self, program: ProgramState) -> bool:
        return program_word(program)[0] in self.known_as

    def options(self, argv: Sequence[str]) -> list[str]:
        """The person's options without the dropped ones (and without a prompt)."""
        program = ProgramState(argv=tuple(argv), pid=0, started_at=0)
        _name, start = program_word(program)
        options, positionals = split_arguments(argv[start:], self.value_options)
        kept = [
            word for option in options if _bare(option[0]) not in self.dropped for word in option
        ]
        return kept + (positionals if self.keeps_positionals else [])

    def recorded_argv(self, argv: Sequence[str]) -> tuple[str, ...]:
        """The command line as a checkpoint records it (an agent's without its old resume
        options or prompt)."""
        return tuple(argv)

    def come_back(self, resume: Resume, settings: Settings) -> Comeback:
        raise NotImplementedError

    def with_bypass_rule(
        self, argv: Sequence[str], settings: Settings
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The argv without permission-bypass options unless they are allowed, and a note
        for each one taken out."""
        if settings.allow_permission_bypass:
            return tuple(argv), ()
        kept, taken = without_bypass(self.command, argv[1:], settings.rules)
        options = [word for word in taken if word.startswith("-")]
        notes = tuple(f"{word} left out (allow_permission_bypass is off)" for word in options)
        return (argv[0], *kept), notes


def _bare(option: str) -> str:
    """`--resume=x` -> `--resume`."""
    return option.split("=", 1)[0]


def short_id(session_id: str) -> str:
    return session_id if len(session_id) <= 12 else f"{session_id[:8]}…"
