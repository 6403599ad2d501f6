"""The one rule (DESIGN.md, "What may run"): what a pane described by a checkpoint, an
import or a person's config starts with. Every path that starts or types a command asks
here; nothing else decides.

A program starts again by itself only if (1) its checkpoint is the person's own, (2)
`argv[0]`, resolved on this machine, is the executable recorded when it ran (or a script
whose `#!` interpreter is), and names the same file as the allowlisted name on PATH, and
(3) its arguments pass that program's rules. Everything else is held: typed at the prompt,
not run; text holding a control character is never typed at all. The rule is a ceiling:
only a per-pane choice made for the exact command, or vouching for an import, raises it.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from config.rules import ArgumentRule
from config.settings import Settings
from recovery.may_run.arguments import argument_refusal, without_bypass
from recovery.may_run.environment import OPTION_VARIABLES, environment_refusal
from recovery.may_run.text import typing_refusal
from recovery.models import PaneChoice, PaneState, ProgramState


class Trust(StrEnum):
    """Whose checkpoint it is, as its verification proved."""

    OWN = "own"
    """Signed with the person's key (or a checkpoint of theirs from before signing)."""
    FOREIGN = "foreign"
    """Verifies by checksum but not by the person's key: written elsewhere, or forged."""
    IMPORTED = "imported"
    """Written from a peer's file (tmuxp, tmux-resurrect) the person has not vouched for."""
    VOUCHED = "vouched"
    """An import the person vouched for: its shell text is typed and entered as written."""


class LaunchMode(StrEnum):
    RUN = "run"
    HOLD = "hold"
    """Typed at the prompt, not run: Enter starts it."""
    SHELL = "shell"


class Executable(BaseModel):
    """What this machine has for an `argv[0]` (found by the adapter, judged here)."""

    model_config = ConfigDict(frozen=True)

    path: str | None = None
    """Real path of `argv[0]` resolved on PATH (or as the path it is)."""
    interpreter: str | None = None
    """Real path of its `#!` interpreter, when it is a script."""
    interpreter_name: str | None = None
    """The interpreter a `#!/usr/bin/env NAME` script names: which one runs it depends on
    the PATH of the shell that ran it (a pane's login shell may differ from ours)."""
    named: str | None = None
    """Real path of the bare program name on PATH: what the allowlisted name means here."""


Resolver = Callable[[str], Executable]


class Decision(BaseModel):
    """How one pane's recorded command comes back, and why."""

    model_config = ConfigDict(frozen=True)

    mode: LaunchMode
    reason: str
    text: str = ""
    """The command line: shell-quoted argv, or shell text as written (vouched imports)."""
    argv: tuple[str, ...] | None = None
    """The exact argv when it runs as a program (not as shell text)."""


@dataclass(frozen=True)
class Recorded:
    """A command as a checkpoint, an import or the watcher's memory recorded it."""

    program: ProgramState | None
    typed_commands: tuple[str, ...] = ()
    choice: PaneChoice | None = None
    job: tuple[ProgramState, ...] = ()

    @classmethod
    def of(cls, pane: PaneState) -> Recorded:
        return cls(pane.program, pane.typed_commands, pane.choice, pane.job)

    @property
    def stages(self) -> tuple[ProgramState, ...]:
        """The foreground job in pipeline order (one stage for a plain program)."""
        if self.job:
            return self.job
        return (self.program,) if self.program is not None and self.program.argv else ()


def environment_kept(program: ProgramState, allowed: Sequence[str]) -> list[tuple[str, str]]:
    """The variables of a stage that come back: allowlisted names only, never one that
    runs code, and a value a program reads as its options must pass its rules."""
    kept = []
    for name, value in program.env:
        if environment_refusal(name, allowed) is not None:
            continue
        reader = OPTION_VARIABLES.get(name)
        if reader is not None and argument_refusal(reader, _split(value)) is not None:
            continue
        kept.append((name, value))
    return kept


def environment_dropped(program: ProgramState, allowed: Sequence[str]) -> list[str]:
    kept = {name for name, _ in environment_kept(program, allowed)}
    return [name for name, _ in program.env if name not in kept] + list(program.withheld)


def stage_text(program: ProgramState, allowed: Sequence[str] = ()) -> str:
    """One stage as a person would type it: `LESS=-R nohup less f`."""
    words = [f"{name}={shlex.quote(value)}" for name, value in environment_kept(program, allowed)]
    if program.nohup:
        words.append("nohup")
    return " ".join([*words, shlex.join(program.argv)])


def command_text(pane: PaneState | Recorded, allowed: Sequence[str] = ()) -> str:
    """The recorded command as one line a shell reads back the same: shell text as it
    was written, or the job's stages joined into a pipeline."""
    recorded = pane if isinstance(pane, Recorded) else Recorded.of(pane)
    if recorded.typed_commands:
        return "; ".join(recorded.typed_commands)
    return " | ".join(stage_text(stage, allowed) for stage in recorded.stages)


def decide(
    pane: PaneState | Recorded,
    trust: Trust,
    settings: Settings,
    resolve: Resolver,
    exempt: Sequence[tuple[str, str]] = (),
) -> Decision | None:
    """How a recorded command comes back; None when there is none (a plain shell).
    `exempt`: option-value pairs a program strategy verified (a Session.vim)."""
    recorded = pane if isinstance(pane, Recorded) else Recorded.of(pane)
    text = command_text(recorded, settings.environment)
    if not text:
        return None
    refusal = typing_refusal(text)
    if refusal is not None:
        return Decision(mode=LaunchMode.SHELL, reason=f"refused: the command {refusal}")
    decision = _decide(recorded, text, trust, settings, resolve, exempt)
    if decision.mode is LaunchMode.HOLD and not settings.type_unlisted_commands:
        reason = f"{decision.reason} (type_unlisted_commands is off)"
        return Decision(mode=LaunchMode.SHELL, reason=reason, text=text)
    return decision


def _decide(
    recorded: Recorded,
    text: str,
    trust: Trust,
    settings: Settings,
    resolve: Resolver,
    exempt: Sequence[tuple[str, str]] = (),
) -> Decision:
    choice = recorded.choice
    if choice is not None and choice.command == text and trust is Trust.OWN:
        return Decision(
            mode=LaunchMode(choice.mode),
            reason=f"your choice for this pane: {choice.mode}",
            text=text,
            argv=_argv_of(recorded, settings),
        )
    lowered = choice is not None and choice.command == text and choice.mode != "run"
    if trust is Trust.VOUCHED and choice is not None and lowered:
        return Decision(  # a file may only lower what runs: tmuxp's `enter: false`
            mode=LaunchMode(choice.mode),
            reason="typed without Enter, as the file says (enter: false)",
            text=text,
        )
    if trust is Trust.FOREIGN:
        return _held(text, "not your checkpoint (its signature is not your key's)")
    if trust is Trust.IMPORTED:
        return _held(text, "from an imported file you have not vouched for")
    if trust is Trust.VOUCHED:
        return Decision(mode=LaunchMode.RUN, reason="from an import you vouched for", text=text)
    if recorded.typed_commands or not recorded.stages:
        return _held(text, "shell text, not a program with arguments")
    for stage in recorded.stages:
        why = program_refusal(
            stage,
            settings.allowlist,
            settings.rules,
            resolve,
            settings.allow_permission_bypass,
            exempt,
        )
        if why is not None:
            return _held(text, why)
    return Decision(
        mode=LaunchMode.RUN, reason="allowlisted", text=text, argv=_argv_of(recorded, settings)
    )


def program_refusal(
    program: ProgramState,
    allowlist: tuple[str, ...],
    rules: tuple[ArgumentRule, ...],
    resolve: Resolver,
    bypass_allowed: bool = False,
    exempt: Sequence[tuple[str, str]] = (),
) -> str | None:
    """Why this program of the person's own checkpoint may not start by itself, or None.
    A permission bypass (`--dangerously-skip-permissions`) needs `allow_permission_bypass`
    (program strategies take it out instead, and say so)."""
    argv0 = program.argv[0]
    name = argv0.rsplit("/", 1)[-1].lstrip("-")
    if name not in allowlist:
        return f"{name} is not on the allowlist"
    found = resolve(argv0)
    if found.path is None:
        return f"{argv0} is not found here"
    if found.named != found.path:
        return f"{argv0} is not the {name} found on PATH ({found.named or 'none'})"
    if program.exe is None:
        return "the executable that ran was not recorded (a checkpoint from before signing)"
    if program.exe not in (found.path, found.interpreter) and not _same_interpreter(
        program.exe, found.interpreter_name
    ):
        return f"{argv0} is {found.path} here, but {program.exe} is what ran"
    bypass = without_bypass(name, program.argv[1:], rules)[1]
    if bypass and not bypass_allowed:
        return f"{name}: {bypass[0]} comes back only with allow_permission_bypass on"
    return argument_refusal(name, program.argv[1:], rules, exempt)


def _same_interpreter(exe: str, name: str | None) -> bool:
    """`exe` is an interpreter of that name (`python3` ran as `/usr/bin/python3.11`)."""
    if not name:
        return False
    base = exe.rsplit("/", 1)[-1]
    return base == name or (base.startswith(name) and base[len(name) :].strip("0123456789.") == "")


def _held(text: str, reason: str) -> Decision:
    return Decision(mode=LaunchMode.HOLD, reason=reason, text=text)


def _argv_of(recorded: Recorded, settings: Settings) -> tuple[str, ...] | None:
    """The exact argv when the command is one plain program (no pipeline, no wrapper);
    None: it runs as the shell line it is."""
    stages = recorded.stages
    if recorded.typed_commands or len(stages) != 1:
        return None
    only = stages[0]
    if only.nohup or environment_kept(only, settings.environment):
        return None
    return only.argv


def _split(value: str) -> list[str]:
    try:
        return shlex.split(value)
    except ValueError:
        return [value]
