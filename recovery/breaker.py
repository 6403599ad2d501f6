"""Crash-loop protection per session (supervisord's backoff + systemd's StartLimitBurst).

A recovery counts as a success only once the session stayed healthy for the grace period;
a failure sooner grows the backoff geometrically (with jitter, capped). Whatever the
outcome, at most `burst.max` recoveries per `burst.window`; then `given up`, sticky until a
person resets it. Pure: the caller passes the time and the random source.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from config.settings import Settings


class BreakerState(BaseModel):
    model_config = ConfigDict(frozen=True)

    attempts: tuple[float, ...] = ()
    failures: int = 0
    next_allowed_at: float = 0.0
    probation_until: float | None = None
    given_up: str | None = None


def decide(
    state: BreakerState, settings: Settings, now: float, what: str
) -> tuple[bool, BreakerState, str]:
    """May this session be recovered now? Returns (allowed, new state, why not)."""
    if state.given_up is not None:
        return False, state, f"given up: {state.given_up}"
    recent = tuple(t for t in state.attempts if now - t < settings.burst.window)
    if len(recent) >= settings.burst.max:
        reason = (
            f"{len(recent)} recoveries in {settings.burst.window:g}s and still {what}; "
            "reset with `tmux-guardian recover SESSION`"
        )
        return False, state.model_copy(update={"given_up": reason, "attempts": recent}), reason
    if now < state.next_allowed_at:
        return False, state, f"backing off {state.next_allowed_at - now:.1f}s more"
    return True, state.model_copy(update={"attempts": recent}), ""


def record_attempt(
    state: BreakerState, settings: Settings, now: float, rng: Callable[[], float]
) -> BreakerState:
    """A recovery was just made. A previous one that did not last the grace period is a
    quick failure and grows the backoff."""
    failures = state.failures + (1 if state.probation_until is not None else 0)
    backoff = settings.backoff
    delay = min(backoff.max, backoff.initial * backoff.factor**failures)
    delay *= 1 + backoff.jitter * (2 * rng() - 1)
    return state.model_copy(
        update={
            "attempts": (*state.attempts, now),
            "failures": failures,
            "next_allowed_at": now + delay,
            "probation_until": now + settings.grace_period,
        }
    )


def record_health(state: BreakerState, healthy: bool, now: float) -> BreakerState:
    """After a poll: a session healthy past its probation counts as recovered."""
    if state.probation_until is None or not healthy or now < state.probation_until:
        return state
    return state.model_copy(update={"failures": 0, "probation_until": None})


def reset() -> BreakerState:
    """A person's reset (`recover SESSION`): forget the history, allow a recovery now."""
    return BreakerState()
