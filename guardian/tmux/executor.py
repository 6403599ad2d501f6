"""Carry out restore plans against tmux: few batched invocations, verified, transactional.

Each phase (see `session_commands`) is ONE tmux invocation for all sessions where size
allows; then one fresh read verifies every session. A session that fails anywhere is
killed by id (only what we created) and reported; the others go on.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from guardian.errors import TmuxError
from guardian.tmux.adapter import TmuxAdapter
from guardian.tmux.batches import BatchedPhase, Commands
from guardian.tmux.prompt import pane_shells, type_at_prompts
from guardian.tmux.session_commands import (
    BuiltSession,
    ContentFiles,
    SessionCommands,
    session_name_arg,
)
from recovery.models import SessionState
from recovery.plan import SessionPlan

__all__ = ["PlanExecutor", "SessionOutcome", "compare_with_plan", "session_name_arg"]


@dataclass
class SessionOutcome:
    name: str
    checkpoint_id: str
    ok: bool
    session_id: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


class PlanExecutor:
    """Builds sessions from plans through one TmuxAdapter."""

    def __init__(
        self, adapter: TmuxAdapter, scratch_dir: Path | None = None, type_wait: float = 10.0
    ) -> None:
        self.adapter = adapter
        self.type_wait = type_wait
        self.contents = ContentFiles(scratch_dir)
        self.commands = SessionCommands(self.contents)
        self._marker = f"tg-{secrets.token_hex(6)}"

    def execute(self, plans: Sequence[SessionPlan]) -> list[SessionOutcome]:
        outcomes: dict[int, SessionOutcome] = {}
        built = [BuiltSession(plan) for plan in plans]

        def fail(item: BuiltSession, error: str) -> None:
            self._fail(item, outcomes, error)

        phases: list[
            tuple[
                Callable[[BuiltSession], list[Commands]],
                Callable[[BuiltSession, list[str]], None] | None,
            ]
        ] = [
            (self.commands.create_pieces, self.commands.read_create),
            (self.commands.build_pieces, self.commands.read_build),
            (self.commands.configure_pieces, None),
        ]
        try:
            for make_pieces, read_output in phases:
                phase = BatchedPhase(self.adapter, self._marker, make_pieces, read_output, fail)
                built = phase.run(built)
            verified = self._verify(built, outcomes)
            naming = BatchedPhase(self.adapter, self._marker, self.commands.name_pieces, None, fail)
            named = naming.run(verified)
            self._type_at_prompts(named)
            after = [c for item in named for c in self.commands.options_after(item)]
            if after:
                self.adapter.run_commands(after)
            for item in named:
                self._succeed(item, outcomes)
        except TmuxError as exc:  # server gone or not answering: nothing more can be done
            for item in built:
                self._fail(item, outcomes, f"tmux stopped answering: {exc}")
            for plan in plans:
                outcomes.setdefault(
                    id(plan), SessionOutcome(plan.name, plan.checkpoint_id, False, error=str(exc))
                )
        finally:
            if any(not o.ok for o in outcomes.values()):
                self.contents.remove_all()
        return [outcomes[id(plan)] for plan in plans]

    def _type_at_prompts(self, built: list[BuiltSession]) -> None:
        """Held and run-in-shell commands, typed once each shell is at its prompt; a pane
        whose shell never gets there in time is left as it is, with a warning."""
        typings = {id(item): self.commands.typings(item) for item in built}
        if not any(typings.values()):
            return
        listing = ["list-panes", "-a", "-F", "#{pane_id} #{pane_pid} #{pane_tty}"]
        warnings = type_at_prompts(
            [t for found in typings.values() for t in found],
            lambda: pane_shells(self.adapter.run(listing)),
            self.adapter.run_commands,
            self.type_wait,
        )
        for item in built:
            item.warnings += [
                warnings[t.pane_id] for t in typings[id(item)] if t.pane_id in warnings
            ]

    # -- verification and rollback -------------------------------------------------------

    def _verify(
        self, built: list[BuiltSession], outcomes: dict[int, SessionOutcome]
    ) -> list[BuiltSession]:
        """The sessions that are as planned (the others are failed and removed)."""
        state = self.adapter.read_server(probe_processes=False)
        live = {session.session_id: session for session in state.sessions}
        whole: list[BuiltSession] = []
        for item in built:
            session = live.get(item.session_id)
            if session is None:
                self._fail(item, outcomes, "the session vanished right after it was built")
                continue
            problems, warnings = compare_with_plan(item.plan, session)
            if problems:
                self._fail(item, outcomes, "; ".join(problems))
                continue
            item.warnings = warnings + missing_directories(item.plan)
            whole.append(item)
        return whole

    @staticmethod
    def _succeed(item: BuiltSession, outcomes: dict[int, SessionOutcome]) -> None:
        outcomes[id(item.plan)] = SessionOutcome(
            item.plan.name, item.plan.checkpoint_id, True, item.session_id, warnings=item.warnings
        )

    def _fail(self, item: BuiltSession, outcomes: dict[int, SessionOutcome], error: str) -> None:
        with contextlib.suppress(TmuxError):
            if item.session_id:
                self.adapter.run(["kill-session", "-t", item.session_id])
        outcomes[id(item.plan)] = SessionOutcome(
            item.plan.name, item.plan.checkpoint_id, False, error=error
        )


def missing_directories(plan: SessionPlan) -> list[str]:
    """Warnings for panes whose directory is gone (tmux started them elsewhere)."""
    return [
        f"directory {pane.cwd} no longer exists (window {window.index}, "
        f"pane {pane.index} started elsewhere)"
        for window in plan.windows
        for pane in window.panes
        if not Path(pane.cwd).is_dir()
    ]


def compare_with_plan(plan: SessionPlan, session: SessionState) -> tuple[list[str], list[str]]:
    """Problems (the session is wrong) and warnings (it is usable but not identical)."""
    problems: list[str] = []
    warnings: list[str] = []
    live = {w.index: w for w in session.windows}
    for window in plan.windows:
        got = live.get(window.index)
        if got is None:
            problems.append(f"window {window.index} is missing")
            continue
        if len(got.panes) != len(window.panes):
            problems.append(
                f"window {window.index} has {len(got.panes)} panes, expected {len(window.panes)}"
            )
            continue
        known = all(p.geometry[2] > 0 for p in window.panes)  # imported files may lack it
        if known and [p.geometry for p in got.panes] != [p.geometry for p in window.panes]:
            warnings.append(f"window {window.index}: pane geometry differs from the checkpoint")
        if window.zoomed != got.zoomed:
            warnings.append(f"window {window.index}: zoom differs from the checkpoint")
        want_active = next((p.index for p in window.panes if p.active), None)
        got_active = next((p.index for p in got.panes if p.active), None)
        if want_active is not None and want_active != got_active:
            warnings.append(f"window {window.index}: active pane differs from the checkpoint")
    if len(session.windows) != len(plan.windows):
        problems.append(f"{len(session.windows)} windows, expected {len(plan.windows)}")
    return problems, warnings
