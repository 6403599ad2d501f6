"""A monitor's outputs beyond the journal and the live-state files: alert events to the
person's command and desktop, and metrics for Prometheus. Subscribed to each guard's
reporter; told after each poll."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from guardian.operations.engine import Engine
from guardian.watch.alerting import AlertSender
from guardian.watch.guard import ServerGuard
from recovery.alerts import AlertEvent
from recovery.journal import Journal

if TYPE_CHECKING:
    from guardian.watch.metrics import FleetMetrics

log = logging.getLogger("tmux_guardian")


class WatchOutputs:
    """Alerts and metrics of the servers one monitor guards."""

    def __init__(self, engine: Engine, guards: Iterable[ServerGuard]) -> None:
        guards = list(guards)
        settings = engine.settings
        sockets = {guard.target.label: guard.target.socket_path for guard in guards}
        self.alerts = AlertSender(settings, Journal(engine.state_dir), sockets)
        self.metrics: FleetMetrics | None = None
        if settings.metrics_file is not None or settings.metrics_listen is not None:
            # prometheus_client loads only when metrics are asked for (a tenth of a second)
            from guardian.watch.metrics import FleetMetrics

            self.metrics = FleetMetrics(settings, engine.state_dir, sockets)
        for guard in guards:
            guard.reporter.observers.append(self.on_event)

    def on_event(self, event: AlertEvent) -> None:
        self.alerts.send(event)
        if self.metrics is not None:
            self.metrics.observe(event)

    async def after_poll(self, guards: Iterable[ServerGuard], now: float) -> None:
        """Metrics written in a worker thread (nothing at all without them). Never raises:
        a metrics file that cannot be written is said once, in the log."""
        if self.metrics is None:
            return
        try:
            facts = [self.metrics.facts_of(guard) for guard in guards]
            await asyncio.to_thread(self.metrics.after_poll, facts, now)
        except Exception as exc:
            log.error("metrics not updated: %s: %s", type(exc).__name__, exc)

    def close(self) -> None:
        self.alerts.close()
        if self.metrics is not None:
            self.metrics.close()
