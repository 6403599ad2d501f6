"""Alert events: what is told beyond the journal (a command's stdin, a desktop
notification, metrics), and how often. Pure.

A payload is built from a whitelist of fields, each made here from facts that cannot hold
a secret: the event's kind, the server's label, the session's name, its health, the KINDS
of the plan's steps (never their argv, paths or messages: a respawn carries a command
line), a generic outcome with counts, a duration and a time. Command lines, environment
values and pane contents never reach it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, cast

from pydantic import BaseModel, ConfigDict

from recovery.health import Verdict
from recovery.strategies import RecoveryPlan

EventKind = Literal[
    "crashed", "frozen", "corrupted", "disconnected", "recovered", "gave_up", "failed"
]
FAILURE_EVENTS: frozenset[str] = frozenset({"crashed", "frozen", "corrupted", "disconnected"})


class AlertEvent(BaseModel):
    """One event, exactly the JSON object a person's alert command reads on stdin."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event: EventKind
    server: str
    session: str
    health: str
    action: str | None = None
    outcome: str | None = None
    duration_s: float | None = None
    at: str
    """ISO 8601, UTC."""


def iso_time(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="milliseconds")


def plan_summary(plan: RecoveryPlan) -> str:
    """The plan's steps by kind only (`checkpoint, respawn pane`), never their arguments."""
    return ", ".join(dict.fromkeys(step.kind.value for step in plan.steps))


def failure_event(server: str, verdict: Verdict, when: float) -> AlertEvent:
    """A session turned unhealthy (its evidence stays in the journal: it can name programs)."""
    health = verdict.health.value
    if health not in FAILURE_EVENTS:
        raise ValueError(f"{health!r} is not a failure")
    return AlertEvent(
        event=cast(EventKind, health),
        server=server,
        session=verdict.session,
        health=health,
        at=iso_time(when),
    )


def action_event(
    server: str, plan: RecoveryPlan, ok: bool, duration_s: float, when: float
) -> AlertEvent:
    """A recovery ended: `recovered` or `failed`, with the kinds of its steps."""
    steps = len(plan.steps)
    return AlertEvent(
        event="recovered" if ok else "failed",
        server=server,
        session=plan.verdict.session,
        health=plan.verdict.health.value,
        action=plan_summary(plan),
        outcome=f"{'ok' if ok else 'failed'} ({steps} step{'s' if steps != 1 else ''})",
        duration_s=round(duration_s, 3),
        at=iso_time(when),
    )


def gave_up_event(
    server: str, verdict: Verdict, attempts: int, window: float, when: float
) -> AlertEvent:
    """The crash-loop breaker gave up on a session (sticky until a person resets it)."""
    return AlertEvent(
        event="gave_up",
        server=server,
        session=verdict.session,
        health=verdict.health.value,
        action="give up",
        outcome=f"given up after {attempts} recoveries in {window:g} s",
        at=iso_time(when),
    )


@dataclass
class Admission:
    send: bool
    first_dropped: bool = False
    """The first event held back in this run of drops: say so once."""
    dropped_before: int = 0
    """Events held back since the last one sent (told when the next one goes out)."""


@dataclass
class AlertLimiter:
    """At most `per_minute` events per key (server + session) in any 60 s."""

    per_minute: int
    window: float = 60.0
    sent: dict[str, deque[float]] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)

    def admit(self, key: str, now: float) -> Admission:
        times = self.sent.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) >= self.per_minute:
            self.dropped[key] = self.dropped.get(key, 0) + 1
            return Admission(False, first_dropped=self.dropped[key] == 1)
        times.append(now)
        return Admission(True, dropped_before=self.dropped.pop(key, 0))
