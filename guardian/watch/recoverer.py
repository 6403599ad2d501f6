"""Carry out recovery plans, each step checked by a fresh look before it counts."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from guardian.errors import TmuxError
from guardian.operations.engine import Engine
from guardian.operations.restore import restore
from guardian.operations.snapshot import save_state
from guardian.tmux.adapter import TmuxAdapter
from guardian.tmux.names import exact_argv, format_literal
from guardian.tmux.servers import process_gone, process_state
from guardian.tmux.targets import ServerTarget
from recovery.files import PRIVATE_DIR
from recovery.health import Health, Verdict
from recovery.models import ServerState
from recovery.strategies import RecoveryPlan, Step, StepKind


@dataclass
class Outcome:
    ok: bool
    message: str
    duration_ms: float = 0.0
    details: list[str] = field(default_factory=list)


def wait_for(condition: Callable[[], bool], timeout: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


class Recoverer:
    """Acts for one server. Every kill it makes is journaled by the caller, never a
    tombstone, so it never blocks the guardian's own rebuilds."""

    def __init__(self, engine: Engine, target: ServerTarget, adapter: TmuxAdapter) -> None:
        self.engine = engine
        self.target = target
        self.adapter = adapter

    def run(self, plan: RecoveryPlan, state: ServerState | None) -> Outcome:
        started = time.perf_counter()
        try:
            outcome = self._run(plan, state)
        except (OSError, TmuxError) as exc:
            outcome = Outcome(False, f"{type(exc).__name__}: {exc}")
        outcome.duration_ms = (time.perf_counter() - started) * 1000
        return outcome

    def _run(self, plan: RecoveryPlan, state: ServerState | None) -> Outcome:
        verdict = plan.verdict
        details: list[str] = []
        for step in plan.steps:
            if step.kind is StepKind.REBUILD:
                continue  # batched by rebuild()
            details.append(self._step(step, verdict, state))
        verified, message = self._verify(plan)
        return Outcome(verified, message, details=details)

    def _step(self, step: Step, verdict: Verdict, state: ServerState | None) -> str:
        match step.kind:
            case StepKind.SIGNAL:
                os.kill(step.pid or 0, step.signal or 0)
            case StepKind.SIGNAL_GROUP:
                os.killpg(step.pid or 0, step.signal or 0)
            case StepKind.SEND_KEYS:
                self.adapter.run(["send-keys", "-t", step.pane_id or "", step.keys or ""])
            case StepKind.MAKE_SOCKET_DIR:
                directory = Path(step.path or "")
                if not directory.exists():
                    directory.mkdir(mode=PRIVATE_DIR, parents=True)
                    directory.chmod(PRIVATE_DIR)
            case StepKind.RESPAWN_PANE:
                command = ["respawn-pane", "-k", "-t", step.pane_id or ""]
                if step.cwd and Path(step.cwd).is_dir():
                    command += ["-c", format_literal(step.cwd)]
                self.adapter.run([*command, *exact_argv(step.argv)])
            case StepKind.KILL_PANE:
                self.adapter.run(["kill-pane", "-t", step.pane_id or ""])
            case StepKind.CHECKPOINT:
                if state is not None and state.session(verdict.session) is not None:
                    save_state(
                        self.engine,
                        state,
                        self.target,
                        [verdict.session],
                        reason="pre-recovery",
                        health=verdict.health.value,
                    )
            case StepKind.WAIT_GONE:
                if step.pid and not wait_for(lambda: process_gone(step.pid or 0), 3.0):
                    raise OSError(f"old server pid {step.pid} is still alive")
            case StepKind.KILL_SERVER:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(step.pid or 0, signal.SIGKILL)
            case StepKind.NOTIFY:
                pass  # journaled and shown by the caller
        return step.describe()

    def _verify(self, plan: RecoveryPlan) -> tuple[bool, str]:
        """A fresh look: the step is a success only if the failure is really gone."""
        verdict = plan.verdict
        kinds = {step.kind for step in plan.steps}
        if kinds <= {StepKind.NOTIFY}:
            return True, "told the person"
        if StepKind.SIGNAL in kinds and any(s.signal == signal.SIGCHLD for s in plan.steps):
            return True, "asked tmux to reap the lost exit status; judged again next poll"
        if verdict.health in (Health.FROZEN, Health.DISCONNECTED) and verdict.server_pid:
            if StepKind.SIGNAL_GROUP in kinds:
                groups = [s.pid for s in plan.steps if s.kind is StepKind.SIGNAL_GROUP]
                ok = wait_for(lambda: all(process_state(g or 0) != "T" for g in groups), 1.0)
                return ok, "process group running again" if ok else "still stopped"
            if StepKind.SEND_KEYS in kinds:
                return self._verify_panes_read(verdict, lambda pane: not pane.writer_blocked)
            path = self.target.socket_path
            if not wait_for(lambda: os.path.exists(path), 2.0):
                return False, "the socket did not come back"
            if not wait_for(lambda: self._answering_pid() == verdict.server_pid, 2.0):
                return False, "the server still does not answer"
            return True, f"server pid {verdict.server_pid} answers again, same processes"
        if verdict.health is Health.CORRUPTED:
            return self._verify_panes_read(verdict, lambda pane: not pane.dead)
        return True, "done"

    def _verify_panes_read(self, verdict: Verdict, good: Callable[..., bool]) -> tuple[bool, str]:
        wanted = {p.pane_id for p in verdict.damaged_panes} | set(verdict.xoff_panes)

        def all_good() -> bool:
            try:
                state = self.adapter.read_server()
            except TmuxError:
                return False
            session = state.session(verdict.session)
            if session is None:
                return False
            panes = {p.pane_id: p for w in session.windows for p in w.panes}
            return all(pane_id in panes and good(panes[pane_id]) for pane_id in wanted)

        ok = wait_for(all_good, 1.5, step=0.1)
        return ok, "panes running again" if ok else "panes still not right"

    def _answering_pid(self) -> int | None:
        try:
            return self.adapter.read_server(probe_processes=False).server.pid
        except TmuxError:
            return None

    def rebuild(self, names: list[str]) -> dict[str, Outcome]:
        """Rebuild sessions from their newest verifying checkpoints, in one batched restore."""
        started = time.perf_counter()
        engine = Engine(self.engine.settings, self.engine.state_dir, (self.target,))
        report = restore(engine, names, explicit_server=True, names_as_tmux_reports=True)
        elapsed = (time.perf_counter() - started) * 1000
        outcomes: dict[str, Outcome] = {}
        for item in report.items:
            ok = item.status in ("restored", "skipped")
            message = "; ".join([f"{item.status}: {item.message}", *item.survivors])
            outcomes[item.session] = Outcome(
                ok, message, elapsed, item.warnings + item.held + item.notices + report.notes
            )
        for name in names:
            outcomes.setdefault(name, Outcome(False, "no checkpoint to rebuild from", elapsed))
        return outcomes
