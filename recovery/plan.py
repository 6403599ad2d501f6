"""Restore as a plan: what to create for a checkpoint, decided without touching tmux.

How a pane's program comes back (DESIGN.md, "Restore"):
- an idle shell comes back as a shell in the same directory;
- a program started from a shell comes back inside a shell: run again when allowlisted
  (exact argv, shell-quoted), else typed at the prompt but not run (or left out);
- a program that was the pane's own command comes back as the pane's command when
  allowlisted (exact argv), else as a shell with the command typed;
- a program still running from before (same pid and start time) is never started twice.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from config.settings import Settings
from recovery.checkpoint import Checkpoint
from recovery.models import PaneState, ProgramState, WindowState


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
    keys: str | None = None
    """Text typed at the shell prompt."""
    press_enter: bool = False

    def describe(self) -> str:
        if self.kind is LaunchKind.COMMAND and self.command:
            return f"runs {shlex.join(self.command)}"
        if self.kind is LaunchKind.RUN_IN_SHELL:
            return f"shell, then runs {self.keys}"
        if self.kind is LaunchKind.TYPED:
            return f"shell, with '{self.keys}' typed (not run)"
        if self.kind is LaunchKind.SURVIVOR:
            return f"shell ({self.keys} still runs from before: not started twice)"
        return "shell"


class PanePlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    cwd: str
    title: str
    active: bool
    geometry: tuple[int, int, int, int]
    launch: PaneLaunch
    contents: str | None = None


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
    panes: tuple[PanePlan, ...]


class SessionPlan(BaseModel):
    """Everything needed to rebuild one session, from one verified checkpoint."""

    model_config = ConfigDict(frozen=True)

    name: str
    checkpoint_id: str
    windows: tuple[WindowPlan, ...]

    @property
    def pane_count(self) -> int:
        return sum(len(w.panes) for w in self.windows)

    def describe(self) -> list[str]:
        lines = [
            f"session '{self.name}' from checkpoint {self.checkpoint_id}: "
            f"{len(self.windows)} windows, {self.pane_count} panes"
        ]
        for w in self.windows:
            flags = "".join(f for f, on in ((" active", w.active), (" zoomed", w.zoomed)) if on)
            lines.append(f"  window {w.index} '{w.name}' {w.width}x{w.height}{flags}")
            for p in w.panes:
                lines.append(f"    pane {p.index} in {p.cwd}: {p.launch.describe()}")
        return lines


def plan_launch(
    pane: PaneState, settings: Settings, still_running: Callable[[ProgramState], bool]
) -> PaneLaunch:
    """Decide how a pane's program comes back."""
    program = pane.program
    if pane.dead:
        typed = pane.start_command.strip()
        if typed and settings.type_unlisted_commands:
            return PaneLaunch(kind=LaunchKind.TYPED, keys=typed)
        return PaneLaunch(kind=LaunchKind.SHELL)
    if program is None or not program.argv:
        return PaneLaunch(kind=LaunchKind.SHELL)
    line = shlex.join(program.argv)
    if still_running(program):
        return PaneLaunch(kind=LaunchKind.SURVIVOR, keys=line)
    if settings.is_allowlisted(program.argv):
        if pane.is_shell:
            return PaneLaunch(kind=LaunchKind.RUN_IN_SHELL, keys=line, press_enter=True)
        return PaneLaunch(kind=LaunchKind.COMMAND, command=program.argv)
    if settings.type_unlisted_commands:
        return PaneLaunch(kind=LaunchKind.TYPED, keys=line)
    return PaneLaunch(kind=LaunchKind.SHELL)


def _window_plan(
    window: WindowState,
    checkpoint: Checkpoint,
    settings: Settings,
    still_running: Callable[[ProgramState], bool],
) -> WindowPlan:
    return WindowPlan(
        index=window.index,
        name=window.name,
        width=window.width,
        height=window.height,
        layout=window.layout,
        active=window.active,
        zoomed=window.zoomed,
        automatic_rename=window.automatic_rename,
        panes=tuple(
            PanePlan(
                index=pane.index,
                cwd=pane.cwd,
                title=pane.title,
                active=pane.active,
                geometry=pane.geometry,
                launch=plan_launch(pane, settings, still_running),
                contents=checkpoint.pane_contents(window.index, pane.index)
                if settings.capture_contents
                else None,
            )
            for pane in sorted(window.panes, key=lambda p: p.index)
        ),
    )


def plan_session(
    checkpoint: Checkpoint,
    settings: Settings,
    *,
    name: str | None = None,
    still_running: Callable[[ProgramState], bool] = lambda _program: False,
) -> SessionPlan:
    """The plan that rebuilds `checkpoint`'s session (under `name` if given)."""
    windows = sorted(checkpoint.session.windows, key=lambda w: w.index)
    if not windows or any(not w.panes for w in windows):
        raise ValueError(f"checkpoint {checkpoint.id} holds a window without panes")
    return SessionPlan(
        name=name if name is not None else checkpoint.session.name,
        checkpoint_id=checkpoint.id,
        windows=tuple(_window_plan(w, checkpoint, settings, still_running) for w in windows),
    )
