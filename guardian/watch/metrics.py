"""Metrics for fleets, through prometheus_client: a node_exporter textfile written
atomically after each poll (`metrics_file`) and an optional HTTP endpoint
(`metrics_listen`, loopback unless the person names another address).

Labels are server labels, health names, failure kinds and outcomes: never a command line,
an environment value or pane contents (session names appear in none of them either).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from config.outputs import is_loopback, parse_listen
from config.settings import Settings
from recovery.alerts import AlertEvent
from recovery.health import FAILURES, Health
from recovery.store.entries import entries_in

if TYPE_CHECKING:
    from guardian.watch.guard import ServerGuard

log = logging.getLogger("tmux_guardian")

STORE_WALK_EVERY = 60.0
"""Seconds between walks of the checkpoint store for its size (cheap, not free)."""
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
TEXTFILE_MODE = 0o644
"""node_exporter runs as another user: the textfile is the one file meant to be read."""


@dataclass(frozen=True)
class GuardFacts:
    """What metrics read of one server's guard after a poll."""

    server: str
    healths: list[tuple[Health, bool]]
    """Each session's health, and whether the breaker gave up on it."""
    polls: int
    checkpoints_written: int


class FleetMetrics:
    """One watcher's metrics registry, textfile and endpoint."""

    def __init__(self, settings: Settings, state_dir: Path, servers: Iterable[str]) -> None:
        prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
        # (`_created` series are noise in a textfile)
        self.textfile = settings.metrics_file
        self.listen = settings.metrics_listen
        self.state_dir = state_dir
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.up = Gauge("tmux_guardian_up", "1 while the watcher runs", registry=registry)
        self.sessions = Gauge(
            "tmux_guardian_sessions", "Guarded sessions by health", ["server", "health"],
            registry=registry,
        )  # fmt: skip
        self.given_up = Gauge(
            "tmux_guardian_sessions_given_up",
            "Sessions the crash-loop breaker gave up on (until a person resets them)",
            ["server"], registry=registry,
        )  # fmt: skip
        self.recoveries = Counter(
            "tmux_guardian_recoveries", "Recoveries by failure and outcome",
            ["server", "failure", "outcome"], registry=registry,
        )  # fmt: skip
        self.durations = Histogram(
            "tmux_guardian_recovery_duration_seconds", "How long each recovery took",
            buckets=DURATION_BUCKETS, registry=registry,
        )  # fmt: skip
        self.last_poll = Gauge(
            "tmux_guardian_last_poll_timestamp_seconds",
            "When each server was last polled (Unix time)", ["server"], registry=registry,
        )  # fmt: skip
        self.checkpoints = Counter(
            "tmux_guardian_checkpoints", "Checkpoints the watcher wrote", registry=registry
        )
        self.store_bytes = Gauge(
            "tmux_guardian_checkpoint_store_bytes", "Bytes of checkpoint files in the state dir",
            registry=registry,
        )  # fmt: skip
        for server in servers:  # every series from the start: rate() and absent() work at once
            for failure in sorted(FAILURES):
                for outcome in ("ok", "failed"):
                    self.recoveries.labels(server, failure.value, outcome)
            self.given_up.labels(server).set(0)
        self.up.set(1)
        self.seen_polls: dict[str, int] = {}
        self.seen_written: dict[str, int] = {}
        self.walked_at = float("-inf")
        self.said: set[str] = set()
        self.http: Any = None
        self._serve()

    # -- events and polls ----------------------------------------------------------------

    @staticmethod
    def facts_of(guard: ServerGuard) -> GuardFacts:
        return GuardFacts(
            server=guard.target.label,
            healths=[(view.verdict.health, view.given_up is not None) for view in guard.views],
            polls=guard.polls,
            checkpoints_written=guard.checkpointer.written,
        )

    def observe(self, event: AlertEvent) -> None:
        """A recovery's end counts (by the failure it repaired), with its duration."""
        if event.event not in ("recovered", "failed"):
            return
        outcome = "ok" if event.event == "recovered" else "failed"
        self.recoveries.labels(event.server, event.health, outcome).inc()
        if event.duration_s is not None:
            self.durations.observe(event.duration_s)

    def after_poll(self, guards: Iterable[GuardFacts], now: float) -> None:
        for guard in guards:
            server = guard.server
            counts = dict.fromkeys(Health, 0)
            given_up = 0
            for health, gave_up in guard.healths:
                counts[health] += 1
                given_up += gave_up
            for health, count in counts.items():
                self.sessions.labels(server, health.value).set(count)
            self.given_up.labels(server).set(given_up)
            if guard.polls != self.seen_polls.get(server):
                self.seen_polls[server] = guard.polls
                self.last_poll.labels(server).set(now)
            written = guard.checkpoints_written - self.seen_written.get(server, 0)
            if written > 0:
                self.checkpoints.inc(written)
            self.seen_written[server] = guard.checkpoints_written
        if time.monotonic() - self.walked_at >= STORE_WALK_EVERY:
            self.walked_at = time.monotonic()
            self.store_bytes.set(store_bytes(self.state_dir / "checkpoints"))
        self.write_textfile()

    # -- outputs -------------------------------------------------------------------------

    def write_textfile(self) -> None:
        if self.textfile is None:
            return
        try:
            write_world_readable(self.textfile, generate_latest(self.registry))
        except OSError as exc:
            self._once("textfile", f"cannot write metrics_file {self.textfile}: {exc}")

    def _serve(self) -> None:
        if self.listen is None:
            return
        host, port = parse_listen(self.listen)
        try:
            self.http, _thread = prometheus_client.start_http_server(
                port, addr=host, registry=self.registry
            )
        except OSError as exc:
            log.error(
                "metrics_listen %s: cannot listen (%s); no metrics over HTTP, guarding goes on",
                self.listen, exc.strerror or exc,
            )  # fmt: skip
            return
        where = "" if is_loopback(host) else " (beyond loopback, as configured)"
        log.info("metrics on http://%s/metrics%s", self.listen, where)

    def _once(self, what: str, text: str) -> None:
        if what not in self.said:
            self.said.add(what)
            log.error("%s", text)

    def close(self) -> None:
        """The watcher stops: `up` drops to 0 in the textfile, the endpoint closes."""
        self.up.set(0)
        self.write_textfile()
        if self.http is not None:
            with contextlib.suppress(Exception):
                self.http.shutdown()
                self.http.server_close()
            self.http = None


def write_world_readable(path: Path, data: bytes) -> None:
    """Atomically: a temp file in the same directory (not named *.prom, which node_exporter
    would read half-written), mode 0644, then a rename over the target."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, TEXTFILE_MODE)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.close(fd)
        fd = -1
        os.replace(temp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            Path(temp).unlink()
        raise


def store_bytes(checkpoints_dir: Path) -> int:
    """The size of every checkpoint file (links are never followed)."""
    total = 0
    with contextlib.suppress(OSError):
        for server in os.scandir(checkpoints_dir):
            if not server.is_dir(follow_symlinks=False):
                continue
            with contextlib.suppress(OSError):
                for session in os.scandir(server.path):
                    if session.is_dir(follow_symlinks=False):
                        total += sum(_size(e.path) for e in entries_in(Path(session.path)))
    return total


def _size(path: Path) -> int:
    try:
        return path.lstat().st_size
    except OSError:
        return 0
