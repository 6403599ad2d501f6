"""Acting on one poll's verdicts: close the dead panes a person ended, ask the strategy for
a repair, let the crash-loop breaker allow or refuse it, carry it out (rebuilds of one
server batched into one restore), and record the given-up sessions a person shares."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from guardian.operations.engine import Engine
from guardian.tmux.executables import resolver
from guardian.tmux.targets import ServerTarget
from guardian.watch.preparing import ServerPreparer
from guardian.watch.recoverer import Outcome, Recoverer
from guardian.watch.reporting import Reporter
from recovery.breaker import BreakerState, decide, record_attempt, record_health
from recovery.breaker import reset as reset_breaker
from recovery.health import Health, Verdict
from recovery.models import ServerState
from recovery.shared import GivenUp, SharedState, SharedStore, shared_key
from recovery.strategies import (
    RecoveryPlan,
    StepKey,
    StepKind,
    plan_housekeeping,
    plan_recovery,
    step_key,
    without_repeats,
)

log = logging.getLogger("tmux_guardian")


@dataclass
class SharedChanges:
    """What acting changed of the state shared with a person (saved once per poll)."""

    given_up: dict[str, GivenUp]
    resets: set[str]
    changed: bool = False


@dataclass
class PollFacts:
    """The parts of a poll acting needs."""

    verdicts: list[Verdict]
    state: ServerState | None
    shared: SharedState
    now: float
    starting: bool
    changed: set[str] = field(default_factory=set)
    """Sessions whose health changed at this poll."""


class RecoveryActions:
    """One server's repairs, with a crash-loop breaker per session."""

    def __init__(
        self,
        engine: Engine,
        target: ServerTarget,
        recoverer: Recoverer,
        reporter: Reporter,
        preparer: ServerPreparer,
        tell: Callable[[str], None],
        *,
        only: str | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.engine = engine
        self.target = target
        self.recoverer = recoverer
        self.reporter = reporter
        self.preparer = preparer
        self.tell = tell
        self.only = only
        self.rng = rng
        self.breakers: dict[str, BreakerState] = {}
        self.resolve = resolver()
        self.shared_store = SharedStore(engine.state_dir)

    def act_on(self, facts: PollFacts) -> None:
        shared = SharedChanges(dict(facts.shared.given_up), set(facts.shared.reset))
        rebuilds: list[RecoveryPlan] = []
        done: dict[StepKey, str] = {}  # what was acted on this round, for which session
        for verdict in facts.verdicts:
            if self.only is not None and verdict.session != self.only:
                continue
            key = shared_key(self.target.socket_path, verdict.session)
            self._settle_breaker(key, verdict, facts.now, shared)
            self._close_dead_panes(verdict)
            plan = self._repair_for(verdict, key, facts)
            if plan is not None and not plan.rebuilds:
                plan = self._unrepeated(plan, done)
            if plan is None or not self._breaker_allows(key, plan, facts.now, shared):
                continue
            if plan.rebuilds:
                rebuilds.append(plan)
                continue
            done.update({k: verdict.session for s in plan.steps if (k := step_key(s)) is not None})
            self.reporter.record_action(plan, self.recoverer.run(plan, facts.state), self.tell)
        if rebuilds:
            self._rebuild(rebuilds)
        if shared.changed:
            self._save_shared(shared)

    def _unrepeated(self, plan: RecoveryPlan, done: dict[StepKey, str]) -> RecoveryPlan | None:
        """A session of a group shares its windows: what was repaired for another session
        this round is not repaired twice (journaled as such)."""
        left, by = without_repeats(plan, done)
        if left is None:
            names = ", ".join(f"'{name}'" for name in sorted(by))
            self.reporter.record(
                plan.verdict.session,
                "note",
                outcome=f"repaired with {names}: {plan.describe()}",
            )
        return left

    def _settle_breaker(
        self, key: str, verdict: Verdict, now: float, shared: SharedChanges
    ) -> None:
        """A person's reset clears the breaker; a session healthy past its probation
        counts as recovered."""
        breaker = self.breakers.get(key, BreakerState())
        if key in shared.resets:
            breaker = reset_breaker()
            shared.given_up.pop(key, None)
            shared.resets.discard(key)
            shared.changed = True
            self.reporter.record(verdict.session, "note", outcome="reset by a person")
        self.breakers[key] = record_health(breaker, not verdict.is_failure, now)

    def _close_dead_panes(self, verdict: Verdict) -> None:
        """What tmux would have done itself: close the dead panes a person ended (unless
        they keep them), make tmux reap a lost exit status. Logged, not journaled: it
        repairs nothing."""
        keep = self.preparer.person_keeps_dead_panes
        for step in plan_housekeeping(verdict, close_dead_panes=not keep):
            outcome = self.recoverer.run(
                RecoveryPlan(verdict=verdict, steps=(step,), counts=False), None
            )
            log.debug(
                "%s: %s: %s (%s)", self.target.label, verdict.session, step.describe(),
                "done" if outcome.ok else outcome.message,
            )  # fmt: skip

    def _repair_for(self, verdict: Verdict, key: str, facts: PollFacts) -> RecoveryPlan | None:
        settings = self.engine.settings
        if not verdict.is_failure or key in facts.shared.paused:
            return None
        if verdict.health is Health.CRASHED and facts.starting and not settings.restore_on_start:
            return None
        plan = plan_recovery(verdict, settings, self.resolve)
        if plan is not None and plan.only_tells and verdict.session not in facts.changed:
            return None  # told once when it happened, not at every poll
        return plan

    def _breaker_allows(
        self, key: str, plan: RecoveryPlan, now: float, shared: SharedChanges
    ) -> bool:
        if not plan.counts:
            return True
        settings = self.engine.settings
        verdict = plan.verdict
        allowed, breaker, _why = decide(self.breakers[key], settings, now, verdict.health.value)
        if allowed:
            self.breakers[key] = record_attempt(breaker, settings, now, self.rng)
            return True
        if breaker.given_up and key not in shared.given_up:
            shared.given_up[key] = GivenUp(reason=breaker.given_up, at=now)
            shared.changed = True
            self._announce_given_up(verdict, breaker)
        self.breakers[key] = breaker
        return False

    def _announce_given_up(self, verdict: Verdict, breaker: BreakerState) -> None:
        reason = breaker.given_up or "given up"
        window = self.engine.settings.burst.window
        self.reporter.record_given_up(verdict, reason, len(breaker.attempts), window)
        self.tell(f"gave up on '{verdict.session}': {reason}")

    def _rebuild(self, plans: list[RecoveryPlan]) -> None:
        """Wait for the old server to be gone, then rebuild every session in one restore."""
        first = plans[0]
        waiting = tuple(s for s in first.steps if s.kind is not StepKind.REBUILD)
        waited = self.recoverer.run(first.model_copy(update={"steps": waiting}), None)
        if not waited.ok and "still alive" in waited.message:
            for plan in plans:
                self.reporter.record_action(plan, waited, self.tell)
            return
        outcomes = self.recoverer.rebuild([plan.verdict.session for plan in plans])
        for plan in plans:
            outcome = outcomes.get(plan.verdict.session, Outcome(False, "?"))
            self.reporter.record_action(plan, outcome, self.tell)
        if any(o.ok for o in outcomes.values()):
            self.preparer.forget_server()

    def _save_shared(self, shared: SharedChanges) -> None:
        try:
            with self.engine.store.locked():
                current = self.shared_store.load()
                given_up = {**current.given_up, **shared.given_up} if shared.given_up else {}
                self.shared_store.save(
                    current.model_copy(
                        update={
                            "given_up": given_up,
                            "reset": frozenset(current.reset & shared.resets),
                        }
                    )
                )
        except Exception as exc:
            log.error("cannot save shared state: %s", exc)
