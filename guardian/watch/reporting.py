"""Telling what happened: the recovery journal, the watcher's log, a short message on the
clients attached to the server, and alert events to whoever listens (the person's alert
command, desktop notifications, metrics)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from config.settings import Settings
from guardian.errors import TmuxError
from guardian.tmux.adapter import TmuxAdapter
from guardian.tmux.names import format_literal
from guardian.tmux.targets import ServerTarget
from guardian.watch.recoverer import Outcome
from recovery.alerts import AlertEvent, action_event, failure_event, gave_up_event
from recovery.health import Health, Verdict
from recovery.journal import Journal
from recovery.strategies import RecoveryPlan

log = logging.getLogger("tmux_guardian")


def tell_attached_clients(adapter: TmuxAdapter, settings: Settings, text: str) -> None:
    """A short message on every client attached to this server (config `[alerts] tmux`, or
    the older `notifications`)."""
    if not settings.tmux_messages:
        return
    try:
        rows = adapter.run(["list-clients", "-F", "#{client_pid} #{client_name}"]).splitlines()
        ours = str(adapter.control_client_pid)  # our own control client reads nothing
        clients = [name for pid, _, name in (r.partition(" ") for r in rows) if pid != ours]
        message = format_literal(f"tmux-guardian: {text}")
        commands = [["display-message", "-c", c, "-d", "4000", message] for c in clients if c]
        if commands:
            adapter.run_commands(commands)
    except TmuxError:
        pass  # no server, or no clients: nobody to tell


class Reporter:
    """Journals and logs one server's verdict changes and actions."""

    def __init__(self, journal: Journal, target: ServerTarget, *, enabled: bool) -> None:
        self.journal = journal
        self.target = target
        self.enabled = enabled
        self.observers: list[Callable[[AlertEvent], None]] = []
        """Told each alert event (a failure, a recovery's end, a give-up); must not block."""

    def emit(self, event: AlertEvent) -> None:
        if not self.enabled:
            return  # a read-only look (status, the UI beside a watcher) tells nobody
        for observer in self.observers:
            try:
                observer(event)
            except Exception as exc:  # telling must never stop the guarding
                log.error("alert event not handled: %s: %s", type(exc).__name__, exc)

    def record(self, session: str, kind: str, **fields: Any) -> None:
        if not self.enabled:
            return
        try:
            self.journal.record(self.target.socket_path, session, kind, **fields)
        except OSError as exc:
            log.error("journal write failed: %s", exc)

    def record_health_changes(
        self, verdicts: list[Verdict], last: dict[str, Health], repaired: dict[str, float]
    ) -> None:
        """Each verdict that is news (a first healthy is news to nobody); a session healthy
        again carries its incident's fault-to-repair time. A read-only look (status, the
        UI beside a watcher) records nothing."""
        if not self.enabled:
            return
        for verdict in verdicts:
            previous = last.get(verdict.session)
            if previous is None and verdict.health is Health.HEALTHY:
                continue
            seconds = repaired.get(verdict.session)
            extra: dict[str, Any] = {}
            if seconds is not None and previous is not None:
                extra = {
                    "outcome": f"healthy again {seconds:.2f} s after it was {previous.value}",
                    "duration_ms": round(seconds * 1000, 1),
                }
            self.record(
                verdict.session,
                "verdict",
                health=verdict.health.value,
                evidence=verdict.evidence,
                **extra,
            )
            if verdict.is_failure:
                self.emit(failure_event(self.target.label, verdict, time.time()))
            level = logging.INFO if verdict.health is Health.HEALTHY else logging.WARNING
            log.log(
                level,
                "%s: %s is %s%s",
                self.target.label,
                verdict.session,
                verdict.health.value,
                f" ({'; '.join(verdict.evidence)})" if verdict.evidence else "",
            )

    def record_action(
        self, plan: RecoveryPlan, outcome: Outcome, tell: Callable[[str], None]
    ) -> None:
        verdict = plan.verdict
        if plan.counts or not outcome.ok:
            what = "recovered" if outcome.ok else "could not recover"
            tell(f"{what} '{verdict.session}' ({verdict.health.value}): {outcome.message}")
            seconds = outcome.duration_ms / 1000
            self.emit(action_event(self.target.label, plan, outcome.ok, seconds, time.time()))
        self.record(
            verdict.session,
            "action",
            health=verdict.health.value,
            evidence=verdict.evidence,
            action=plan.describe(),
            outcome=("ok: " if outcome.ok else "failed: ") + outcome.message,
            duration_ms=round(outcome.duration_ms, 1),
        )
        level = logging.INFO if outcome.ok else logging.ERROR
        log.log(
            level,
            "%s: %s: %s -> %s (%.0f ms)",
            self.target.label,
            verdict.session,
            plan.describe(),
            outcome.message,
            outcome.duration_ms,
        )

    def record_given_up(self, verdict: Verdict, reason: str, attempts: int, window: float) -> None:
        """The crash-loop breaker gave up on a session (sticky until a person resets it)."""
        self.record(
            verdict.session, "action", action="give up", health=verdict.health.value, outcome=reason
        )
        log.error("%s: %s: given up: %s", self.target.label, verdict.session, reason)
        self.emit(gave_up_event(self.target.label, verdict, attempts, window, time.time()))
