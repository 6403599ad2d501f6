"""Restore as a plan: what to create for a checkpoint, decided without touching tmux.

How a pane's program comes back is the one rule's to say (`recovery.may_run`); here it
becomes how the pane is started:
- nothing recorded: a shell in the same directory;
- may run, started from a shell: a shell, then the command line typed and entered;
- may run, the pane's own command: the pane's command, exact argv;
- held: a shell with the command typed at the prompt, not run;
- refused (control characters): a shell, the command not typed, the reason said;
- still running from before (a survivor of a crash): never started twice.

Layouts, sizes and names from any source are made safe for tmux here too.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from config.settings import Settings
from recovery.checkpoint import Checkpoint
from recovery.contents import replayable
from recovery.layout import MAX_CELL, safe_layout
from recovery.may_run import Decision, Executable, LaunchMode, Recorded, Resolver, Trust, decide
from recovery.may_run.text import typing_refusal, visible
from recovery.models import PaneState, ProgramState, WindowState
from recovery.plan_programs import (
    ProgramFacts,
    capped,
    chosen_mode,
    comeback_for,
    describe_comeback,
)
from recovery.plan_setup import settable_environment, settable_options
from recovery.programs import Mode


class LaunchKind(StrEnum):
    SHELL = "shell"
    RUN_IN_SHELL = "run in shell"
    TYPED = "typed, not run"
    COMMAND = "pane command"
    SURVIVOR = "still running"


class PaneLaunch(BaseModel):
    """How one pane is started."""

    model_config = ConfigDict(frozen=True)

    kind: LaunchKind
    command: tuple[str, ...] | None = None
    """Exact argv of the pane's own command; None starts the default shell."""
    line: str | None = None
    """Shell text the pane runs as its own command (a vouched tmuxp pane's `shell`): tmux
    hands it to the default shell's `-c`, as `tmuxp load` does."""
    keys: str | None = None
    """Text typed at the shell prompt (never holding a control character)."""
    then: tuple[str, ...] = ()
    """More lines typed after it, each with Enter (a tmuxp pane's further commands); for a
    pane command (`line`), typed into its program at once, as tmuxp sends them."""
    last_unsent: bool = False
    """The last of `then` is typed without Enter: tmuxp's `enter: false`."""
    press_enter: bool = False
    reason: str = ""
    """Why it comes back this way (held, refused), said in the output."""
    how: str = ""
    """What its program strategy made of it (`claude: resumes conversation 8b34… (exact)`)."""
    notice: str = ""
    """What the person is told on restore too: a guessed conversation, a gone one, an
    option taken out, a session file not loaded."""

    def describe(self) -> str:
        how = f"{self.how}; " if self.how else ""
        return how + self._started()

    @property
    def mode(self) -> Mode | None:
        """run, hold or shell; None for a program that survived (it is not started)."""
        if self.kind in (LaunchKind.COMMAND, LaunchKind.RUN_IN_SHELL):
            return "run"
        if self.kind is LaunchKind.TYPED:
            return "hold"
        return None if self.kind is LaunchKind.SURVIVOR else "shell"

    @property
    def choosable(self) -> bool:
        """A person may choose how it comes back: it has a command (a bare shell has not;
        a survivor is not started at all)."""
        return self.kind is not LaunchKind.SURVIVOR and bool(
            self.keys or self.command or self.line or self.reason
        )

    def _started(self) -> str:
        why = f" ({self.reason})" if self.reason else ""
        if self.kind is LaunchKind.COMMAND and self.command:
            return visible(f"runs {shlex.join(self.command)}")
        if self.kind is LaunchKind.COMMAND and self.line:
            typed = f", then types {' ⏎ '.join(self.then)} into it" if self.then else ""
            return visible(f"runs {self.line}{typed}{why}")
        if self.kind is LaunchKind.RUN_IN_SHELL:
            run = (self.keys or "", *self.then[: -1 if self.last_unsent else None])
            unsent = ""
            if self.last_unsent and self.then:
                unsent = f", then '{self.then[-1]}' typed, not run, as the file says (enter: false)"
            return visible(f"shell, then runs {' ⏎ '.join(run)}{unsent}{why}")
        if self.kind is LaunchKind.TYPED:
            return visible(f"shell, with '{self.keys}' typed, not run (Enter runs it){why}")
        if self.kind is LaunchKind.SURVIVOR:
            return visible(f"shell ({self.reason})")
        return visible(f"shell{why}")


@dataclass(frozen=True)
class PaneComeback:
    """One pane of a plan as a person chooses for it: `WINDOW.PANE`, how it comes back."""

    where: str
    how: str
    mode: Mode | None
    choosable: bool


class PanePlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    cwd: str
    title: str
    active: bool
    geometry: tuple[int, int, int, int]
    launch: PaneLaunch
    contents: str | None = None
    environment: tuple[tuple[str, str], ...] = ()
    """Variables it starts with (`-e`), those the rule lets through."""

    @property
    def shown_first(self) -> str | None:
        """Text the pane shows before its shell: its saved contents, and a survivor's
        notice."""
        notice = self.launch.reason if self.launch.kind is LaunchKind.SURVIVOR else None
        parts = [part for part in (self.contents, notice) if part]
        return "\n".join(parts) if parts else None


class WindowPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    name: str
    width: int
    height: int
    layout: str
    active: bool
    zoomed: bool
    automatic_rename: bool
    options: tuple[tuple[str, str], ...] = ()
    """Set before its layout (only those `recovery.tmux_options` lets through)."""
    options_after: tuple[tuple[str, str], ...] = ()
    """Set once its panes' commands are typed (synchronize-panes)."""
    panes: tuple[PanePlan, ...]


class SessionPlan(BaseModel):
    """Everything needed to rebuild one session, from one verified checkpoint."""

    model_config = ConfigDict(frozen=True)

    name: str
    checkpoint_id: str
    windows: tuple[WindowPlan, ...]
    trust: Trust = Trust.OWN
    replaces: str | None = None
    """The id of a live session this one takes the place of (`restore --replace`)."""
    environment: tuple[tuple[str, str], ...] = ()
    options: tuple[tuple[str, str], ...] = ()
    global_options: tuple[tuple[str, str], ...] = ()
    """The session's environment and options and the server's, those the rules let
    through (`recovery.plan_setup`); set before its panes start."""
    warnings: tuple[str, ...] = ()

    @property
    def pane_count(self) -> int:
        return sum(len(w.panes) for w in self.windows)

    def held(self) -> list[str]:
        """A line per pane whose command comes back held or refused, with the reason."""
        return [
            visible(f"window {w.index} pane {p.index}: ") + p.launch.describe()
            for w in self.windows
            for p in w.panes
            if p.launch.reason and p.launch.kind is not LaunchKind.SURVIVOR
        ]

    def comebacks(self) -> list[PaneComeback]:
        """How each pane comes back, for a person to choose from (the UI's restore dialog)."""
        return [
            PaneComeback(f"{w.index}.{p.index}", visible(p.launch.describe()), p.launch.mode,
                         p.launch.choosable)
            for w in self.windows
            for p in w.panes
        ]  # fmt: skip

    def notices(self) -> list[str]:
        """A line per pane that comes back less exactly than it ran (a guess, a gone
        conversation, an option taken out), said on restore."""
        return [
            visible(f"window {w.index} pane {p.index}: {p.launch.notice}")
            for w in self.windows
            for p in w.panes
            if p.launch.notice and not p.launch.reason
        ]

    def survivors(self) -> list[str]:
        """A line per program that survived the crash and still runs (not started twice)."""
        return [
            visible(f"window {w.index} pane {p.index}: {p.launch.reason}")
            for w in self.windows
            for p in w.panes
            if p.launch.kind is LaunchKind.SURVIVOR
        ]

    def describe(self) -> list[str]:
        whose = {Trust.OWN: "", Trust.VOUCHED: " (an import you vouched for: its commands run)"}
        lines = [
            visible(
                f"session '{self.name}' from checkpoint {self.checkpoint_id}"
                f"{whose.get(self.trust, f' ({self.trust.value}: commands held)')}: "
                f"{len(self.windows)} windows, {self.pane_count} panes"
            )
        ]
        if self.environment:
            lines.append(visible(f"  environment: {', '.join(n for n, _ in self.environment)}"))
        for scope, options in (("server", self.global_options), ("session", self.options)):
            lines += [visible(f"  {scope} option {name} {value}") for name, value in options]
        for w in self.windows:
            flags = "".join(f for f, on in ((" active", w.active), (" zoomed", w.zoomed)) if on)
            lines.append(visible(f"  window {w.index} '{w.name}' {w.width}x{w.height}{flags}"))
            for p in w.panes:
                lines.append(visible(f"    pane {p.index} in {p.cwd}: ") + p.launch.describe())
        lines += [f"  warning: {visible(warning)}" for warning in self.warnings]
        return lines


@dataclass
class PlanContext:
    """What planning needs besides the checkpoint; the I/O behind `resolve` and
    `still_running` is the adapter's."""

    settings: Settings
    trust: Trust
    resolve: Resolver = field(default=lambda _argv0: Executable())
    still_running: Callable[[ProgramState], bool] = field(default=lambda _program: False)
    facts: ProgramFacts = field(default_factory=ProgramFacts)
    choices: dict[str, Mode] = field(default_factory=dict)
    """A person's `--run/--hold/--shell WINDOW.PANE` (or `all`): in place of the program's
    default, never above what the rule allows."""
    warnings: list[str] = field(default_factory=list)


def plan_launch(pane: PaneState, context: PlanContext, where: str = "") -> PaneLaunch:
    """How a pane's recorded command comes back: through its program strategy if it has
    one, judged by the one rule, then as the person chose (within what the rule allows)."""
    if pane.dead:
        return _dead_pane_launch(pane)
    if not pane.is_shell and pane.program is None and pane.start_command:
        return _file_command_launch(pane, context, where)
    program = pane.program
    if program is not None and program.pid and context.still_running(program):
        line = shlex.join(program.argv)
        notice = f"{line}, pid {program.pid}, survived the crash and still runs: not started twice"
        return PaneLaunch(kind=LaunchKind.SURVIVOR, keys=line, reason=notice)
    comeback = comeback_for(pane, context.settings, context.facts)
    if comeback is not None and comeback.gone is not None:
        gone = comeback.gone
        return PaneLaunch(kind=LaunchKind.SHELL, reason=gone, notice=gone)
    judged = pane
    if comeback is not None and program is not None:
        stage = program.model_copy(update={"argv": comeback.argv})
        judged = pane.model_copy(update={"program": stage, "job": ()})
    exempt = comeback.exempt if comeback is not None else ()
    decision = decide(judged, context.trust, context.settings, context.resolve, exempt)
    if decision is None:
        return PaneLaunch(kind=LaunchKind.SHELL)
    # The rule's decision is the ceiling; the strategy's default lowers it, unless the
    # person chose for this pane (a choice may lift a default up to the ceiling, no more).
    choice = chosen_mode(context.choices, where)
    if choice is not None:
        decision = capped(decision, choice, f"your choice for this pane: {choice}")
    elif comeback is not None:
        decision = capped(decision, comeback.mode, comeback.describe)
    launch = _launch_of(decision, judged)
    if comeback is None:
        return launch
    how = describe_comeback(comeback)
    notice = how if comeback.tell or comeback.notes else ""
    return launch.model_copy(update={"how": how, "notice": notice})


def _launch_of(decision: Decision, pane: PaneState) -> PaneLaunch:
    if decision.mode is LaunchMode.RUN:
        if not pane.is_shell:  # the pane's own command: a pipeline runs as its sh line
            command = decision.argv or ("sh", "-c", decision.text)
            return PaneLaunch(kind=LaunchKind.COMMAND, command=command)
        lines = pane.typed_commands
        if len(lines) > 1 and all(typing_refusal(line) is None for line in lines):
            # several commands stay several: each its own line, as the file gave them; the
            # file may ask its last one to be typed, not run (a choice only lowers)
            choice = pane.choice
            unsent = choice is not None and choice.mode == "hold" and choice.command == lines[-1]
            return PaneLaunch(
                kind=LaunchKind.RUN_IN_SHELL,
                keys=lines[0],
                then=lines[1:],
                press_enter=True,
                last_unsent=unsent,
            )
        return PaneLaunch(kind=LaunchKind.RUN_IN_SHELL, keys=decision.text, press_enter=True)
    if decision.mode is LaunchMode.HOLD:
        return PaneLaunch(kind=LaunchKind.TYPED, keys=decision.text, reason=decision.reason)
    shown = f": {decision.text}" if decision.text else ""
    return PaneLaunch(kind=LaunchKind.SHELL, reason=f"{decision.reason}{shown}")


def _file_command_launch(pane: PaneState, context: PlanContext, where: str) -> PaneLaunch:
    """A pane a file starts with its own command, shell text (tmuxp's `shell`), and the
    lines it types into that program. Held, it is typed at a shell's prompt, not run, and
    the lines meant for the program are not typed at all (they are not shell commands)."""
    text = pane.start_command
    recorded = Recorded(None, (text,))
    decision = decide(recorded, context.trust, context.settings, context.resolve)
    if decision is None:
        return PaneLaunch(kind=LaunchKind.SHELL)
    choice = chosen_mode(context.choices, where)
    if choice is not None:
        decision = capped(decision, choice, f"your choice for this pane: {choice}")
    if decision.mode is LaunchMode.RUN:
        lines, reason = pane.typed_commands, ""
        refusal = next((r for line in lines if (r := typing_refusal(line)) is not None), None)
        if refusal is not None:  # none is typed: the lines go together
            lines, reason = (), f"its lines for the program not typed: one {refusal}"
        unsent = pane.choice is not None and pane.choice.mode == "hold" and bool(lines)
        unsent = unsent and pane.choice is not None and pane.choice.command == lines[-1]
        return PaneLaunch(
            kind=LaunchKind.COMMAND, line=text, then=lines, last_unsent=unsent, reason=reason
        )
    launch = _launch_of(decision, pane.model_copy(update={"typed_commands": (text,)}))
    if pane.typed_commands and launch.reason:
        count = len(pane.typed_commands)
        dropped = f"; the {count} line{'s' * (count > 1)} for it not typed"
        launch = launch.model_copy(update={"reason": launch.reason + dropped})
    return launch


def _dead_pane_launch(pane: PaneState) -> PaneLaunch:
    """A pane that had died when the checkpoint was taken: its start command, quoted from
    its argv, comes back held (a person decides whether it runs again)."""
    try:
        argv = shlex.split(pane.start_command)
    except ValueError:
        argv = []
    if not argv:
        return PaneLaunch(kind=LaunchKind.SHELL, reason="the pane had died")
    line = shlex.join(argv)
    refusal = typing_refusal(line)
    if refusal is not None:
        return PaneLaunch(kind=LaunchKind.SHELL, reason=f"refused: the command {refusal}")
    return PaneLaunch(kind=LaunchKind.TYPED, keys=line, reason="the pane had died")


def _text(value: str, trust: Trust) -> str:
    """A name or title as given; from someone else's file, without control characters."""
    return value if trust is Trust.OWN else "".join("?" if visible(c) != c else c for c in value)


def _size(value: int, default: int) -> int:
    return value if 0 < value <= MAX_CELL else default


def _window_plan(window: WindowState, checkpoint: Checkpoint, context: PlanContext) -> WindowPlan:
    layout, warning = safe_layout(window.layout)
    if warning is not None:
        context.warnings.append(f"window {window.index}: {warning}")
    trust = context.trust
    where, vouched = f"window {window.index}", trust is Trust.VOUCHED
    options, options_after = (
        settable_options(o, "window", where, vouched=vouched, warnings=context.warnings)
        for o in (window.options, window.options_after)
    )
    return WindowPlan(
        options=options,
        options_after=options_after,
        index=window.index,
        name=_text(window.name, trust),
        width=_size(window.width, 200),
        height=_size(window.height, 50),
        layout=layout,
        active=window.active,
        zoomed=window.zoomed,
        automatic_rename=window.automatic_rename,
        panes=tuple(
            _pane_plan(pane, window, checkpoint, context)
            for pane in sorted(window.panes, key=lambda p: p.index)
        ),
    )


def _pane_plan(
    pane: PaneState, window: WindowState, checkpoint: Checkpoint, context: PlanContext
) -> PanePlan:
    launch = plan_launch(pane, context, f"{window.index}.{pane.index}")
    # An agent starts in its own (real) directory: it looks for its conversations there.
    resume = pane.resume
    cwd = resume.cwd if resume is not None and resume.cwd and launch.how else pane.cwd
    return PanePlan(
        index=pane.index,
        cwd=cwd,
        title=_text(pane.title, context.trust),
        active=pane.active,
        geometry=pane.geometry,
        launch=launch,
        contents=_contents(checkpoint, window.index, pane.index, context),
        environment=settable_environment(
            pane.environment,
            f"window {window.index} pane {pane.index}",
            context.settings.environment,
            vouched=context.trust is Trust.VOUCHED,
            warnings=context.warnings,
        ),
    )


def _contents(
    checkpoint: Checkpoint, window_index: int, pane_index: int, context: PlanContext
) -> str | None:
    if not context.settings.capture_contents:
        return None
    text = checkpoint.pane_contents(window_index, pane_index)
    return replayable(text) if text else None


def plan_session(
    checkpoint: Checkpoint, context: PlanContext, *, name: str | None = None
) -> SessionPlan:
    """The plan that rebuilds `checkpoint`'s session (under `name` if given)."""
    windows = sorted(checkpoint.session.windows, key=lambda w: w.index)
    if not windows or any(not w.panes for w in windows):
        raise ValueError(f"checkpoint {checkpoint.id} holds a window without panes")
    session, vouched = checkpoint.session, context.trust is Trust.VOUCHED
    warned = context.warnings
    environment = settable_environment(
        session.environment, "session", context.settings.environment, vouched=vouched,
        warnings=warned,
    )  # fmt: skip
    options = settable_options(
        session.options, "session", "session", vouched=vouched, warnings=warned
    )
    global_options = settable_options(
        session.global_options, "global", "server", vouched=vouched, warnings=warned
    )
    planned = tuple(_window_plan(w, checkpoint, context) for w in windows)
    return SessionPlan(
        name=name if name is not None else session.name,
        checkpoint_id=checkpoint.id,
        windows=planned,
        trust=context.trust,
        environment=environment,
        options=options,
        global_options=global_options,
        warnings=tuple(context.warnings),
    )
