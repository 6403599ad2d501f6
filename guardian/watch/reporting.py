"""Telling what happened: the recovery journal, the watcher's log, and a short message on
the clients attached to the server."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from config.settings import Settings
from guardian.errors import TmuxError
from guardian.tmux.adapter import TmuxAdapter
from guardian.tmux.names import format_literal
from guardian.tmux.targets import ServerTarget
from guardian.watch.recoverer import Outcome
from recovery.health import Health, Verdict
from recovery.journal import Journal
from recovery.strategies import RecoveryPlan

log = logging.getLogger("tmux_guardian")


def tell_attached_clients(adapter: TmuxAdapter, settings: Settings, text: str) -> None:
    """A short message on every client attached to this server (config `notifications`)."""
    if not settings.notifications:
        return
    try:
        clients = adapter.run(["list-clients", "-F", "#{client_name}"]).split("\n")
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
