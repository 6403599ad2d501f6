"""The monitor: each interval, every guarded server is read once (in a worker thread, with
a timeout), classified, repaired where a strategy says so, checkpointed when it changed,
and its live state written for `status`, the TUI and scripts.

`ServerGuard` is one server's poll, synchronous and testable on its own; `Monitor` runs
the guards of all servers concurrently under asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from guardian.engine import Engine
from guardian.errors import TmuxError, TmuxMissingError
from guardian.observe import Observer
from guardian.prepare import (
    ClosedLog,
    Preparation,
    closed_log_path,
    hook_installed,
    prepare,
    unprepare,
)
from guardian.probes import boot_id
from guardian.recoverer import Outcome, Recoverer
from guardian.snapshot import save_state
from guardian.targets import ServerTarget
from guardian.tmux import format_literal
from recovery.breaker import BreakerState, decide, record_attempt, record_health
from recovery.breaker import reset as reset_breaker
from recovery.classifier import ClassifyInput, classify_server
from recovery.files import atomic_write, ensure_private_dir
from recovery.health import Health, Verdict
from recovery.journal import Journal
from recovery.observations import ServerMemory, ServerProbe
from recovery.shared import GivenUp, SharedState, SharedStore, shared_key
from recovery.store import server_key
from recovery.strategies import RecoveryPlan, plan_housekeeping, plan_recovery
from recovery.structure import structure_key

log = logging.getLogger("tmux_guardian")

HOOK_CHECK_EVERY = 5
HOOK_WAIT = 0.5


@dataclass
class SessionView:
    """What `status` and the TUI show of one session."""

    verdict: Verdict
    paused: bool = False
    given_up: str | None = None
    windows: int = 0
    panes: int = 0
    last_checkpoint: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.verdict.session,
            "health": self.verdict.health.value,
            "evidence": list(self.verdict.evidence),
            "attached": self.verdict.attached,
            "paused": self.paused,
            "given_up": self.given_up,
            "windows": self.windows,
            "panes": self.panes,
        }


@dataclass
class GuardOptions:
    recover: bool = True
    prepare: bool = True
    checkpoints: bool = True
    journal: bool = True
    manifest: bool = True
    only: str | None = None
    """Act on this session only (`recover SESSION` without a watcher)."""


@dataclass
class ServerGuard:
    engine: Engine
    target: ServerTarget
    options: GuardOptions = field(default_factory=GuardOptions)
    clock: Callable[[], float] = time.time
    rng: Callable[[], float] = random.random

    def __post_init__(self) -> None:
        self.adapter = self.engine.adapter(self.target)
        self.observer = Observer(self.adapter)
        self.recoverer = Recoverer(self.engine, self.target, self.adapter)
        self.store = self.engine.store
        self.journal = Journal(self.engine.state_dir)
        self.shared_store = SharedStore(self.engine.state_dir)
        self.closed_log = ClosedLog(closed_log_path(self.engine.state_dir, self.target.socket_path))
        self.memory = ServerMemory()
        self.breakers: dict[str, BreakerState] = {}
        self.last_health: dict[str, Health] = {}
        self.saved: dict[str, tuple[str, float]] = {}
        self.preparation: Preparation | None = None
        self.polls = 0
        self.starting = True
        self.views: list[SessionView] = []
        self.changed: set[str] = set()
        self.last_probe: ServerProbe | None = None

    # -- one poll ------------------------------------------------------------------------

    def poll(self) -> list[Verdict]:
        now = self.clock()
        shared = self.shared_store.load()
        socket = self.target.socket_path
        forgotten = {k.split("\t", 1)[1] for k in shared.forgotten if k.startswith(socket + "\t")}
        manifest = self.store.read_manifest(socket)
        restore_set = [n for n in (manifest.sessions if manifest else ()) if n not in forgotten]
        if self.starting:
            since = manifest.taken_at.timestamp() if manifest else 0.0
            closed = [e for e in self.closed_log.read_all() if e.at >= since - 1]
        else:
            closed = self.closed_log.read_new()
        probe = self.observer.observe(self.memory.pid, closed)
        if self._vanished(probe):
            # The hook runs in the background: give its line a moment before calling the
            # server's end a crash (a deliberate `kill-server` writes one).
            time.sleep(HOOK_WAIT)
            late = self.closed_log.read_new()
            if late:
                probe = probe.model_copy(update={"closed": (*probe.closed, *late)})
        self.last_probe = probe
        skip = forgotten | {
            s.name
            for s in (probe.state.sessions if probe.state else ())
            if self.engine.is_ignored(s.name)
        }
        result = classify_server(
            ClassifyInput(
                probe=probe,
                memory=self.memory,
                now=now,
                skip=skip,
                restore_set=restore_set,
                starting=self.starting,
                freeze_grace=self.engine.settings.freeze_grace,
                rebooted=self._rebooted(),
            )
        )
        self.memory = result.memory
        verdicts = [v for v in result.verdicts if v.session not in skip]
        for name in result.closed:
            self._journal(name, "note", outcome="closed by a person; leaves the restore set")
        self.changed = {v.session for v in verdicts if self.last_health.get(v.session) != v.health}
        self._journal_changes(verdicts)
        for verdict in verdicts:
            self.last_health[verdict.session] = verdict.health
        if probe.state is not None:
            self._keep_prepared(probe)
            if self.options.checkpoints:
                self._checkpoint(probe, verdicts, now)
            if self.options.manifest:
                gone = result.closed + [old for old, _new in result.renamed]
                self._update_manifest(probe, skip, gone, restore_set)
        if self.options.recover:
            verdicts = self._act(verdicts, probe, shared, now)
        self.views = self._views(verdicts, probe, shared)
        log.debug(
            "%s: poll %d: %s",
            self.target.label,
            self.polls,
            ", ".join(f"{v.session}={v.health.value}" for v in verdicts) or "no sessions",
        )
        self.starting = False
        self.polls += 1
        return verdicts

    def _vanished(self, probe: ServerProbe) -> bool:
        return (
            probe.state is None
            and probe.error in ("absent", "not_running")
            and not probe.listeners
            and self.memory.last_ok_at is not None
            and not probe.closed
        )

    def _rebooted(self) -> bool:
        if not self.starting:
            return False
        entries = self.store.entries(self.target.socket_path)
        if not entries:
            return False
        try:
            recorded = self.store.load(entries[0]).boot_id
        except Exception:
            return False
        return bool(recorded) and recorded != boot_id()

    # -- preparing, checkpoints, manifest ------------------------------------------------

    def _keep_prepared(self, probe: ServerProbe) -> None:
        if not self.options.prepare or probe.state is None:
            return
        pid = probe.state.server.pid
        try:
            if self.preparation is None or self.preparation.pid != pid:
                self.preparation = prepare(self.adapter, self.engine.state_dir, pid)
                log.info("%s: prepared server pid %s", self.target.label, pid)
            elif self.polls % HOOK_CHECK_EVERY == 0 and not hook_installed(
                self.adapter, self.engine.state_dir
            ):
                self.preparation = prepare(self.adapter, self.engine.state_dir, pid)
                log.warning("%s: session-closed hook was gone; installed again", self.target.label)
        except TmuxError as exc:
            log.warning("%s: cannot prepare the server: %s", self.target.label, exc)

    def release(self) -> None:
        """Put the person's options back (the watcher is stopping)."""
        if self.preparation is None:
            return
        try:
            unprepare(self.adapter, self.engine.state_dir, self.preparation)
        except TmuxError as exc:
            log.info("%s: options not restored (%s)", self.target.label, exc)

    def _checkpoint(self, probe: ServerProbe, verdicts: list[Verdict], now: float) -> None:
        """Only healthy sessions whose structure changed, at most once per interval each."""
        assert probe.state is not None
        healthy = {v.session for v in verdicts if v.health is Health.HEALTHY}
        due: list[str] = []
        for session in probe.state.sessions:
            if session.name not in healthy:
                continue
            key = structure_key(session)
            saved = self.saved.get(session.name)
            if saved is None:
                newest = self.store.newest_verified(self.target.socket_path, session.name)
                saved = (newest.structure, newest.created_at.timestamp()) if newest else ("", 0.0)
                self.saved[session.name] = saved
            if saved[0] != key and now - saved[1] >= self.engine.settings.checkpoint_interval:
                due.append(session.name)
        if not due:
            return
        try:
            report = save_state(self.engine, probe.state, self.target, due, reason="watch")
        except Exception as exc:  # a full disk must not stop the guarding
            log.error("%s: checkpoint failed: %s", self.target.label, exc)
            return
        for item in report.sessions:
            if item.status in ("saved", "unchanged"):
                session = probe.state.session(item.session)
                if session is not None:
                    self.saved[item.session] = (structure_key(session), now)
        for note in report.notes:
            log.warning("%s: %s", self.target.label, note)

    def _update_manifest(
        self, probe: ServerProbe, skip: set[str], closed: list[str], restore_set: list[str]
    ) -> None:
        """The restore set follows the live server: new sessions join, closed ones leave."""
        assert probe.state is not None
        live = [s.name for s in probe.state.sessions if s.name not in skip]
        # Only a person's close takes a session out of the restore set; one that is missing
        # for any other reason (not rebuilt yet, a rebuild that fell short) stays in it.
        wanted = [n for n in restore_set if n not in closed and n not in skip]
        wanted += [n for n in live if n not in wanted]
        if set(wanted) == set(restore_set) or not wanted:
            return
        live = wanted
        try:
            with self.store.locked():
                self.store.write_manifest(
                    self.target.socket_path, live, datetime.fromtimestamp(self.clock(), UTC)
                )
        except Exception as exc:
            log.error("%s: cannot record the restore set: %s", self.target.label, exc)

    # -- acting --------------------------------------------------------------------------

    def _act(
        self, verdicts: list[Verdict], probe: ServerProbe, shared: SharedState, now: float
    ) -> list[Verdict]:
        settings = self.engine.settings
        rebuilds: list[RecoveryPlan] = []
        changed_shared = False
        given_up = dict(shared.given_up)
        resets = set(shared.reset)
        for verdict in verdicts:
            if self.options.only is not None and verdict.session != self.options.only:
                continue
            key = shared_key(self.target.socket_path, verdict.session)
            breaker = self.breakers.get(key, BreakerState())
            if key in resets:
                breaker = reset_breaker()
                given_up.pop(key, None)
                resets.discard(key)
                changed_shared = True
                self._journal(verdict.session, "note", outcome="reset by a person")
            breaker = record_health(breaker, not verdict.is_failure, now)
            for step in plan_housekeeping(verdict):
                outcome = self.recoverer.run(
                    RecoveryPlan(verdict=verdict, steps=(step,), counts=False), None
                )
                self._journal(
                    verdict.session,
                    "action",
                    action=step.describe(),
                    outcome="done" if outcome.ok else outcome.message,
                )
            self.breakers[key] = breaker
            if not verdict.is_failure or key in shared.paused:
                continue
            if verdict.health is Health.CRASHED and self.starting and not settings.restore_on_start:
                continue
            plan = plan_recovery(verdict, settings)
            if plan is None:
                continue
            if plan.only_tells and verdict.session not in self.changed:
                continue  # told once when it happened, not at every poll
            if plan.counts:
                allowed, breaker, _why = decide(breaker, settings, now, verdict.health.value)
                if not allowed:
                    if breaker.given_up and key not in given_up:
                        given_up[key] = GivenUp(reason=breaker.given_up, at=now)
                        changed_shared = True
                        self._journal(
                            verdict.session,
                            "action",
                            action="give up",
                            health=verdict.health.value,
                            outcome=breaker.given_up,
                        )
                        log.error(
                            "%s: %s: given up: %s",
                            self.target.label,
                            verdict.session,
                            breaker.given_up,
                        )
                        self._notify(f"gave up on '{verdict.session}': {breaker.given_up}")
                    self.breakers[key] = breaker
                    continue
                breaker = record_attempt(breaker, settings, now, self.rng)
                self.breakers[key] = breaker
            if plan.rebuilds:
                rebuilds.append(plan)
                continue
            outcome = self.recoverer.run(plan, probe.state)
            self._journal_action(plan, outcome)
        if rebuilds:
            self._rebuild(rebuilds, probe)
        if changed_shared:
            self._save_shared(given_up, resets)
        return verdicts

    def _rebuild(self, plans: list[RecoveryPlan], probe: ServerProbe) -> None:
        first = plans[0]
        waited = self.recoverer.run(
            first.model_copy(
                update={
                    "steps": tuple(
                        s for s in first.steps if s.kind.value != "rebuild from checkpoint"
                    )
                }
            ),
            None,
        )
        if not waited.ok and "still alive" in waited.message:
            for plan in plans:
                self._journal_action(plan, waited)
            return
        names = [plan.verdict.session for plan in plans]
        outcomes = self.recoverer.rebuild(names)
        for plan in plans:
            self._journal_action(plan, outcomes.get(plan.verdict.session, Outcome(False, "?")))
        if any(o.ok for o in outcomes.values()):
            self.preparation = None  # a new server: prepare it at the next poll

    def _save_shared(self, given_up: dict[str, GivenUp], resets: set[str]) -> None:
        try:
            with self.store.locked():
                current = self.shared_store.load()
                self.shared_store.save(
                    current.model_copy(
                        update={
                            "given_up": {**current.given_up, **given_up} if given_up else {},
                            "reset": frozenset(current.reset & resets),
                        }
                    )
                )
        except Exception as exc:
            log.error("cannot save shared state: %s", exc)

    # -- journal and views ---------------------------------------------------------------

    def _journal(self, session: str, kind: str, **fields: Any) -> None:
        if not self.options.journal:
            return
        try:
            self.journal.record(self.target.socket_path, session, kind, **fields)
        except OSError as exc:
            log.error("journal write failed: %s", exc)

    def _journal_changes(self, verdicts: list[Verdict]) -> None:
        if not self.options.journal:
            return  # a read-only look (status, the UI beside a watcher): no log, no journal
        for verdict in verdicts:
            previous = self.last_health.get(verdict.session)
            if previous != verdict.health:
                if previous is None and verdict.health is Health.HEALTHY:
                    continue
                self._journal(
                    verdict.session,
                    "verdict",
                    health=verdict.health.value,
                    evidence=verdict.evidence,
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

    def _notify(self, text: str) -> None:
        """A short message on every client attached to this server (config `notifications`)."""
        if not self.engine.settings.notifications:
            return
        try:
            clients = self.adapter.run(["list-clients", "-F", "#{client_name}"]).split("\n")
            message = format_literal(f"tmux-guardian: {text}")
            commands = [["display-message", "-c", c, "-d", "4000", message] for c in clients if c]
            if commands:
                self.adapter.run_commands(commands)
        except TmuxError:
            pass  # no server, or no clients: nobody to tell

    def _journal_action(self, plan: RecoveryPlan, outcome: Outcome) -> None:
        verdict = plan.verdict
        if plan.counts or not outcome.ok:
            what = "recovered" if outcome.ok else "could not recover"
            self._notify(f"{what} '{verdict.session}' ({verdict.health.value}): {outcome.message}")
        self._journal(
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

    def _views(
        self, verdicts: list[Verdict], probe: ServerProbe, shared: SharedState
    ) -> list[SessionView]:
        views = []
        for verdict in verdicts:
            key = shared_key(self.target.socket_path, verdict.session)
            session = probe.state.session(verdict.session) if probe.state else None
            given = shared.given_up.get(key)
            breaker = self.breakers.get(key)
            views.append(
                SessionView(
                    verdict,
                    paused=key in shared.paused,
                    given_up=given.reason if given else (breaker.given_up if breaker else None),
                    windows=len(session.windows) if session else 0,
                    panes=session.pane_count if session else 0,
                )
            )
        return views

    def live_state(self, watcher_pid: int, interval: float) -> dict[str, Any]:
        probe = self.last_probe
        return {
            "watcher_pid": watcher_pid,
            "server": self.target.label,
            "socket_path": self.target.socket_path,
            "updated_at": self.clock(),
            "interval": interval,
            "server_pid": probe.state.server.pid if probe and probe.state else self.memory.pid,
            "server_error": probe.message if probe and probe.error else None,
            "sessions": [view.as_dict() for view in self.views],
        }


def live_state_path(state_dir: Path, socket_path: str) -> Path:
    return state_dir / "live" / f"{server_key(socket_path)}.json"


class Monitor:
    """Polls every guarded server each interval; never blocks on a frozen one beyond the
    tmux timeout (each server's poll runs in its own worker thread)."""

    def __init__(
        self,
        engine: Engine,
        options: GuardOptions | None = None,
        *,
        interval: float | None = None,
        clock: Callable[[], float] = time.time,
        write_live_state: bool = True,
    ) -> None:
        self.engine = engine
        self.interval = interval if interval is not None else engine.settings.interval
        self.guards = [
            ServerGuard(engine, target, options or GuardOptions(), clock=clock)
            for target in engine.servers
        ]
        self.write_live_state = write_live_state
        self.polls = 0

    async def poll_once(self) -> list[Verdict]:
        results = await asyncio.gather(*(asyncio.to_thread(guard.poll) for guard in self.guards))
        if self.write_live_state:
            await asyncio.to_thread(self._write_live_states)
        self.polls += 1
        return [verdict for verdicts in results for verdict in verdicts]

    def _write_live_states(self) -> None:
        for guard in self.guards:
            path = live_state_path(self.engine.state_dir, guard.target.socket_path)
            try:
                ensure_private_dir(path.parent)
                data = json.dumps(guard.live_state(os.getpid(), self.interval)).encode()
                atomic_write(path, data, durable=False)
            except Exception as exc:
                log.error("cannot write live state: %s", exc)

    async def run(self, stop: asyncio.Event, *, once: bool = False) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            started = loop.time()
            try:
                await self.poll_once()
            except TmuxMissingError:
                raise  # nothing can be guarded: say so once and stop, never a log every second
            except TmuxError as exc:
                log.error("%s", exc)
            if once:
                return
            delay = max(0.0, self.interval - (loop.time() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)

    def release(self) -> None:
        for guard in self.guards:
            guard.release()
