"""Each incident journaled once: its start (a new failure, or new evidence of it, such as
another server pid in a crash during a crash), and its end with the fault-to-repair time;
a person's close, and nothing at every poll."""

from __future__ import annotations

from guardian.watch.reporting import Reporter
from recovery.health import Health, Verdict


class IncidentBook:
    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.last_health: dict[str, Health] = {}
        self.last_verdicts: dict[str, Verdict] = {}
        self.incident_since: dict[str, float] = {}
        """When each failing session's incident began (its fault), to time the repair."""

    def record(self, closed: list[str], verdicts: list[Verdict], now: float) -> set[str]:
        """Journal closes, and each incident once: its start (a new failure, or new
        evidence of it — another server pid), and its end with the fault-to-repair time.
        Return the sessions whose health changed."""
        for name in closed:
            self.reporter.record(name, "note", outcome="closed by a person; leaves the restore set")
            self.incident_since.pop(name, None)
        changed = {v.session for v in verdicts if self.last_health.get(v.session) != v.health}
        repaired: dict[str, float] = {}
        for verdict in verdicts:
            if verdict.is_failure:
                self.incident_since.setdefault(verdict.session, now)
            elif verdict.session in self.incident_since and verdict.health is Health.HEALTHY:
                repaired[verdict.session] = now - self.incident_since.pop(verdict.session)
        news = [v for v in verdicts if self._is_news(v)]
        self.reporter.record_health_changes(news, self.last_health, repaired)
        for verdict in verdicts:
            self.last_health[verdict.session] = verdict.health
            self.last_verdicts[verdict.session] = verdict
        return changed

    def _is_news(self, verdict: Verdict) -> bool:
        before = self.last_verdicts.get(verdict.session)
        if before is None or before.health is not verdict.health:
            return True
        return verdict.is_failure and before.server_pid != verdict.server_pid
