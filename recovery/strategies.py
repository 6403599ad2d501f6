"""One ladder per failure: a verdict in, the steps to repair it out (DESIGN.md, "Strategies").

Pure. The executor in guardian/ performs the steps and verifies each by a fresh read.
"""

from __future__ import annotations

import shlex
import signal
from enum import StrEnum
from pathlib import PurePath

from pydantic import BaseModel, ConfigDict

from config.settings import Settings
from recovery.health import DisconnectKind, FrozenKind, Health, PaneIssue, Verdict
from recovery.may_run import Executable, LaunchMode, Recorded, Resolver, Trust, decide
from recovery.may_run.text import visible


class StepKind(StrEnum):
    SIGNAL = "signal"
    SIGNAL_GROUP = "signal group"
    SEND_KEYS = "send keys"
    MAKE_SOCKET_DIR = "make socket dir"
    RESPAWN_PANE = "respawn pane"
    KILL_PANE = "close pane"
    CHECKPOINT = "checkpoint"
    WAIT_GONE = "wait for old server to exit"
    KILL_SERVER = "kill server"
    REBUILD = "rebuild from checkpoint"
    NOTIFY = "tell the person"


class Step(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: StepKind
    pid: int | None = None
    signal: int | None = None
    pane_id: str | None = None
    keys: str | None = None
    path: str | None = None
    cwd: str | None = None
    argv: tuple[str, ...] | None = None
    """respawn-pane: the exact argv the rule allowed (None: the pane's own shell)."""
    message: str | None = None

    def describe(self) -> str:
        match self.kind:
            case StepKind.SIGNAL:
                return f"send {signal.Signals(self.signal or 0).name} to pid {self.pid}"
            case StepKind.SIGNAL_GROUP:
                return f"send {signal.Signals(self.signal or 0).name} to process group {self.pid}"
            case StepKind.SEND_KEYS:
                return f"send {self.keys} to pane {self.pane_id}"
            case StepKind.MAKE_SOCKET_DIR:
                return f"create {self.path} (mode 0700)"
            case StepKind.RESPAWN_PANE:
                what = shlex.join(self.argv) if self.argv else "its shell"
                return visible(f"respawn pane {self.pane_id} with {what} in {self.cwd}")
            case StepKind.KILL_PANE:
                return f"close dead pane {self.pane_id}"
            case StepKind.WAIT_GONE:
                return f"wait for pid {self.pid} to exit"
            case StepKind.KILL_SERVER:
                return f"kill -9 server pid {self.pid}"
            case StepKind.NOTIFY:
                return f"tell the person: {self.message}"
        return self.kind.value


class RecoveryPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    steps: tuple[Step, ...]
    counts: bool = True
    """False for steps that cannot hurt (reaping a lost exit status, a notice): they do not
    count against the crash-loop breaker."""

    @property
    def only_tells(self) -> bool:
        return all(step.kind is StepKind.NOTIFY for step in self.steps)

    @property
    def rebuilds(self) -> bool:
        return any(step.kind is StepKind.REBUILD for step in self.steps)

    def describe(self) -> str:
        return "; ".join(step.describe() for step in self.steps)


def plan_recovery(
    verdict: Verdict, settings: Settings, resolve: Resolver | None = None
) -> RecoveryPlan | None:
    """The repair for one failing session, or None when there is nothing to repair.
    `resolve` finds executables for the rule on what may run (a dead pane's program)."""
    pid = verdict.server_pid
    match verdict.health:
        case Health.CRASHED:
            steps = [Step(kind=StepKind.WAIT_GONE, pid=pid)] if pid else []
            return RecoveryPlan(verdict=verdict, steps=(*steps, Step(kind=StepKind.REBUILD)))
        case Health.FROZEN:
            return _frozen(verdict, settings)
        case Health.CORRUPTED:
            return _corrupted(verdict, settings, resolve or (lambda _argv0: Executable()))
        case Health.DISCONNECTED:
            return _disconnected(verdict)
    return None


_ACTS = frozenset(
    {
        StepKind.SIGNAL, StepKind.SIGNAL_GROUP, StepKind.SEND_KEYS, StepKind.RESPAWN_PANE,
        StepKind.KILL_PANE, StepKind.MAKE_SOCKET_DIR,
    }
)  # fmt: skip
StepKey = tuple[object, ...]


def step_key(step: Step) -> StepKey | None:
    """What a step acts on, for the steps that act on a pane, a process or a path."""
    if step.kind not in _ACTS:
        return None
    return (step.kind, step.pane_id, step.pid, step.signal, step.keys, step.path)


def without_repeats(
    plan: RecoveryPlan, done: dict[StepKey, str]
) -> tuple[RecoveryPlan | None, set[str]]:
    """The plan without the steps already taken this round for another session (`done`:
    what each acted on -> that session). The sessions of a group share their windows: a
    dead pane is one pane, and a second `respawn-pane -k` would kill the program the first
    one started. None when nothing of the plan is left to act; and the sessions whose
    steps stood in."""
    kept, by = [], set()
    for step in plan.steps:
        key = step_key(step)
        if key is not None and key in done:
            by.add(done[key])
        else:
            kept.append(step)
    if not by:
        return plan, by
    if not any(step_key(step) is not None for step in kept):
        return None, by
    return plan.model_copy(update={"steps": tuple(kept)}), by


def plan_housekeeping(verdict: Verdict, *, close_dead_panes: bool = True) -> list[Step]:
    """Dead panes a person ended are closed, as tmux would have closed them (unless the
    person keeps them: `remain-on-exit on`); a lost exit status is reaped (Debian's tmux
    can miss a pane's exit: SIGCHLD makes it reap the child and record the status)."""
    steps = []
    if close_dead_panes:
        steps = [Step(kind=StepKind.KILL_PANE, pane_id=pane) for pane in verdict.closable_panes]
    if verdict.reaping_panes and verdict.server_pid:
        steps.append(Step(kind=StepKind.SIGNAL, pid=verdict.server_pid, signal=signal.SIGCHLD))
    return steps


def _frozen(verdict: Verdict, settings: Settings) -> RecoveryPlan:
    pid = verdict.server_pid
    # Thawing ends nothing and starts nothing: it is never a recovery for the crash-loop
    # breaker (a server stopped again and again is thawed again and again, and journaled).
    if verdict.frozen is FrozenKind.SERVER_STOPPED:
        thaw = Step(kind=StepKind.SIGNAL, pid=pid, signal=signal.SIGCONT)
        return RecoveryPlan(verdict=verdict, steps=(thaw,), counts=False)
    if verdict.frozen is FrozenKind.SERVER_UNRESPONSIVE:
        if settings.kill_frozen_server and pid:
            kill_and_rebuild = (
                Step(kind=StepKind.KILL_SERVER, pid=pid),
                Step(kind=StepKind.WAIT_GONE, pid=pid),
                Step(kind=StepKind.REBUILD),
            )
            return RecoveryPlan(verdict=verdict, steps=kill_and_rebuild)
        message = (
            f"tmux server pid {pid} does not answer; its programs keep running. "
            f"`kill -9 {pid}` then `tmux-guardian restore` rebuilds it, or set "
            "kill_frozen_server = true"
        )
        return RecoveryPlan(
            verdict=verdict, steps=(Step(kind=StepKind.NOTIFY, message=message),), counts=False
        )
    steps = [
        Step(kind=StepKind.SIGNAL_GROUP, pid=group, signal=signal.SIGCONT)
        for group in verdict.stopped_groups
    ]
    steps += [
        Step(kind=StepKind.SEND_KEYS, pane_id=pane, keys="C-q") for pane in verdict.xoff_panes
    ]
    return RecoveryPlan(verdict=verdict, steps=tuple(steps), counts=False)


def _corrupted(verdict: Verdict, settings: Settings, resolve: Resolver) -> RecoveryPlan:
    respawns: list[Step] = []
    held: list[str] = []
    for pane in verdict.damaged_panes:
        respawn, why = _respawn(pane, settings, resolve)
        if respawn is not None:
            respawns.append(respawn)
        else:
            held.append(why)
    if not respawns:
        message = "; ".join(held)
        return RecoveryPlan(
            verdict=verdict, steps=(Step(kind=StepKind.NOTIFY, message=message),), counts=False
        )
    notes = [Step(kind=StepKind.NOTIFY, message=why) for why in held]
    return RecoveryPlan(verdict=verdict, steps=(Step(kind=StepKind.CHECKPOINT), *respawns, *notes))


def _respawn(pane: PaneIssue, settings: Settings, resolve: Resolver) -> tuple[Step | None, str]:
    """The respawn the rule allows for a dead pane, or why it stays dead. The pane's own
    shell always comes back; a program as its own command only if it may run again, and
    then exactly the argv that was judged (never tmux's whole start command)."""
    if pane.is_shell or pane.program is None:
        return Step(kind=StepKind.RESPAWN_PANE, pane_id=pane.pane_id, cwd=pane.cwd), ""
    decision = decide(Recorded(pane.program), Trust.OWN, settings, resolve)
    if decision is not None and decision.mode is LaunchMode.RUN and decision.argv:
        step = Step(
            kind=StepKind.RESPAWN_PANE, pane_id=pane.pane_id, cwd=pane.cwd, argv=decision.argv
        )
        return step, ""
    reason = decision.reason if decision is not None else "nothing to start"
    where = f"pane {pane.window_index}.{pane.pane_index}"
    why = (
        f"{where} ({visible(shlex.join(pane.program.argv))}) {pane.reason}; not started "
        f"again: {reason}. `tmux respawn-pane -k -t {pane.pane_id}` starts it"
    )
    return None, why


def _disconnected(verdict: Verdict) -> RecoveryPlan:
    pid = verdict.server_pid
    if verdict.disconnect is DisconnectKind.SOCKET_MISSING and pid:
        steps = (
            Step(kind=StepKind.MAKE_SOCKET_DIR, path=str(PurePath(verdict.server).parent)),
            Step(kind=StepKind.SIGNAL, pid=pid, signal=signal.SIGUSR1),
        )
        return RecoveryPlan(verdict=verdict, steps=steps)
    if verdict.disconnect is DisconnectKind.SPLIT_BRAIN:
        message = (
            f"server pid {pid} lost its socket {verdict.server} to server pid "
            f"{verdict.other_pid}; nothing was changed. To reach the old server: "
            f"stop the new one, then `kill -USR1 {pid}`"
        )
    else:
        message = (
            f"server pid {pid} runs {verdict.binary}; attach with "
            f"`{verdict.binary} -S {verdict.server} attach`"
        )
    return RecoveryPlan(
        verdict=verdict, steps=(Step(kind=StepKind.NOTIFY, message=message),), counts=False
    )
