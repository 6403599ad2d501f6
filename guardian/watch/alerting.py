"""Sending alert events to the person's command and desktop, in the background: a poll
never waits for them. Rate-limited per session (the overflow counted and said once), at
most a few in flight, each bounded in time; a failure is logged and journaled."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from config.settings import Settings
from guardian.watch.alert_channels import notify_desktop, run_bounded
from recovery.alerts import AlertEvent, AlertLimiter
from recovery.journal import Journal

log = logging.getLogger("tmux_guardian")

MAX_PENDING = 32
"""Events waiting or in flight; past this one more is dropped (and said, once)."""
WORKERS = 2


class AlertSender:
    """One watcher's alert deliveries (every server it guards)."""

    def __init__(
        self,
        settings: Settings,
        journal: Journal,
        sockets: dict[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.alerts = settings.alerts
        self.journal = journal
        self.sockets = sockets or {}
        """Each server's socket path by its label (the journal knows servers by path)."""
        self.clock = clock
        self.limiter = AlertLimiter(self.alerts.per_minute)
        self.pending = 0
        self.done = threading.Condition()
        self.pool: ThreadPoolExecutor | None = None
        self.said: set[str] = set()
        """Problems already logged once (a missing notification service, a full queue)."""

    @property
    def active(self) -> bool:
        return bool(self.alerts.command) or self.alerts.desktop

    def send(self, event: AlertEvent) -> None:
        """Queue one event; returns at once (called from a poll)."""
        if not self.active:
            return
        key = f"{event.server}\t{event.session}"
        with self.done:
            admission = self.limiter.admit(key, self.clock())
            full = admission.send and self.pending >= MAX_PENDING
            if admission.send and not full:
                self.pending += 1
                if self.pool is None:
                    self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="tg-alert")
                pool = self.pool
        if admission.first_dropped:
            self._note(event, f"more than {self.alerts.per_minute} alerts a minute: the "
                       "next ones are counted, not sent")  # fmt: skip
        if admission.dropped_before:
            self._note(event, f"{admission.dropped_before} alerts were not sent (rate limit)")
        if full:
            self._once("full", f"alerts: {MAX_PENDING} waiting; one for '{event.session}' dropped")
        if admission.send and not full:
            pool.submit(self._deliver, event)

    def _deliver(self, event: AlertEvent) -> None:
        try:
            if self.alerts.command:
                payload = event.model_dump_json().encode() + b"\n"
                error = run_bounded(self.alerts.command, payload, self.alerts.command_timeout)
                if error is not None:
                    self._note(event, f"alert command failed: {error}", level=logging.ERROR)
            if self.alerts.desktop:
                error = notify_desktop(event)
                if error is not None:
                    self._once("desktop", f"desktop notification failed: {error}")
        except Exception as exc:  # an alert must never take a worker (or a poll) down
            log.error("alert for '%s' failed: %s: %s", event.session, type(exc).__name__, exc)
        finally:
            with self.done:
                self.pending -= 1
                self.done.notify_all()

    def _note(self, event: AlertEvent, text: str, level: int = logging.WARNING) -> None:
        log.log(level, "%s: %s: %s", event.server, event.session, text)
        try:
            server = self.sockets.get(event.server, event.server)
            self.journal.record(server, event.session, "note", outcome=text)
        except OSError as exc:
            log.error("journal write failed: %s", exc)

    def _once(self, what: str, text: str) -> None:
        if what not in self.said:
            self.said.add(what)
            log.warning("%s", text)

    def flush(self, timeout: float) -> bool:
        """Wait until every queued alert was delivered (or `timeout`); True if all were."""
        with self.done:
            return self.done.wait_for(lambda: self.pending == 0, timeout)

    def close(self) -> None:
        """The watcher stops: queued alerts that have not started are dropped; running
        ones finish (each is bounded by `command_timeout`)."""
        pool, self.pool = self.pool, None
        if pool is not None:
            with contextlib.suppress(RuntimeError):
                pool.shutdown(wait=True, cancel_futures=True)
