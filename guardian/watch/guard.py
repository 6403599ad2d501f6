"""ServerGuard: one server's poll, synchronous and testable on its own.

A poll reads what a person shares with the watcher (paused, forgotten, the restore set),
observes the server in one bounded read, classifies every session (pure, in `recovery`),
records what changed, checkpoints healthy sessions that changed, and acts on failures.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from guardian.operations.engine import Engine
from guardian.programs.capture import ProbeCache, capture_resumes
from guardian.tmux.building import is_building, roll_back_abandoned
from guardian.tmux.closed_trace import ClosedLog, ServerCommandLine, closed_log_path
from guardian.tmux.observe import Observer
from guardian.tmux.servers import boot_id
from guardian.tmux.targets import ServerTarget
from guardian.watch.acting import PollFacts, RecoveryActions
from guardian.watch.checkpointing import SessionCheckpointer
from guardian.watch.hearing import Hearing
from guardian.watch.incidents import IncidentBook
from guardian.watch.live_state import SessionView, session_views
from guardian.watch.preparing import ServerPreparer
from guardian.watch.recoverer import Recoverer
from guardian.watch.reporting import Reporter, tell_attached_clients
from recovery.breaker import BreakerState
from recovery.classifier import ClassifyInput, ClassifyResult, classify_server
from recovery.health import Health, Verdict
from recovery.journal import Journal
from recovery.models import ServerState
from recovery.observations import ClosedEvent, ServerMemory, ServerProbe
from recovery.shared import SharedState, SharedStore
from recovery.store import CheckpointStore

log = logging.getLogger("tmux_guardian")

HOOK_WAIT = 0.5


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
class SharedView:
    """What a person shares with the watcher, as it applies to this server at this poll."""

    shared: SharedState
    forgotten: set[str]
    restore_set: list[str]
    manifest_taken_at: float | None


@dataclass
class ServerGuard:
    engine: Engine
    target: ServerTarget
    options: GuardOptions = field(default_factory=GuardOptions)
    clock: Callable[[], float] = time.time
    rng: Callable[[], float] = random.random
    under_pressure: bool = False  # the machine is short of CPU (set by the monitor)

    def __post_init__(self) -> None:
        state_dir = self.engine.state_dir
        self.adapter = self.engine.adapter(self.target)
        self.observer = Observer(self.adapter)
        self.store = self.engine.store
        self.shared_store = SharedStore(state_dir)
        self.closed_log = ClosedLog(closed_log_path(state_dir, self.target.socket_path))
        self.reporter = Reporter(Journal(state_dir), self.target, enabled=self.options.journal)
        self.preparer = ServerPreparer(self.adapter, state_dir, enabled=self.options.prepare)
        self.checkpointer = SessionCheckpointer(self.engine, self.target, self.clock)
        self.actions = RecoveryActions(
            self.engine,
            self.target,
            Recoverer(self.engine, self.target, self.adapter),
            self.reporter,
            self.preparer,
            self._notify,
            only=self.options.only,
            rng=self.rng,
        )
        self.memory = ServerMemory()
        self.incidents = IncidentBook(self.reporter)
        self.polls = 0
        self.starting = True
        self.views: list[SessionView] = []
        self.last_probe: ServerProbe | None = None
        self.program_probes = ProbeCache()
        self.hearing: Hearing | None = None
        self.last_verdicts: list[Verdict] = []
        self.server_line = ServerCommandLine()

    def listen(self, nudge: Callable[[str], None]) -> None:
        """Hear ends as they happen (guardian/watch/hearing.py)."""
        self.hearing = Hearing(self.adapter, self.target.label, nudge)

    @property
    def breakers(self) -> dict[str, BreakerState]:
        return self.actions.breakers

    # -- one poll ------------------------------------------------------------------------

    def look(self, full: bool = True) -> list[Verdict]:
        """A full poll; or, when `full` is False and the server's ends are heard, only a
        heartbeat (guardian/watch/hearing.py), with a full poll at once if it fails."""
        hearing, calm = self.hearing, not self.memory.pending  # (nothing half-judged)
        calm = calm and all(v.health is Health.HEALTHY for v in self.last_verdicts)
        if not full and calm and hearing is not None and hearing.all_quiet(self.memory.pid):
            return self.last_verdicts
        return self.poll()

    def poll(self) -> list[Verdict]:
        now = self.clock()
        shared = self._read_shared()
        probe = self._observe(shared)
        self.last_probe = probe
        skip = shared.forgotten | self._ignored(probe)
        result = self._classify(probe, shared, skip, now)
        self.memory = result.memory
        verdicts = [v for v in result.verdicts if v.session not in skip]
        changed = self.incidents.record(result.closed, verdicts, now)
        self.checkpointer.forget_spares(verdicts)
        if probe.state is not None:
            self.preparer.keep_prepared(probe.state.server.pid, self.polls)
            if self.options.checkpoints:
                self.checkpointer.checkpoint_changed(probe.state, verdicts, now)
            if self.options.manifest:
                gone = result.closed + [old for old, _new in result.renamed]
                self.checkpointer.update_restore_set(probe.state, skip, gone, shared.restore_set)
        if self.options.recover:
            facts = PollFacts(verdicts, probe.state, shared.shared, now, self.starting, changed)
            self.actions.act_on(facts)
        self.views = session_views(verdicts, probe.state, shared.shared, self.breakers)
        if self.hearing is not None:
            self.hearing.after_poll(probe)
        log.debug(
            "%s: poll %d: %s",
            self.target.label,
            self.polls,
            ", ".join(f"{v.session}={v.health.value}" for v in verdicts) or "no sessions",
        )
        self.starting = False
        self.polls += 1
        self.last_verdicts = verdicts
        return verdicts

    def _read_shared(self) -> SharedView:
        shared = self.shared_store.load()
        socket = self.target.socket_path
        forgotten = {k.split("\t", 1)[1] for k in shared.forgotten if k.startswith(socket + "\t")}
        manifest = self.store.read_manifest(socket)
        restore_set = [n for n in (manifest.sessions if manifest else ()) if n not in forgotten]
        taken_at = manifest.taken_at.timestamp() if manifest else None
        return SharedView(shared, forgotten, restore_set, taken_at)

    def _closed_since_last_poll(self, shared: SharedView) -> list[ClosedEvent]:
        """The hook's trace: everything since the restore set was written at the first
        poll (closes while no watcher ran count), only new lines after."""
        if self.starting:
            since = shared.manifest_taken_at or 0.0
            return [e for e in self.closed_log.read_all() if e.at >= since - 1]
        return self.closed_log.read_new()

    def _observe(self, shared: SharedView) -> ServerProbe:
        probe = self.observer.observe(self.memory.pid, self._closed_since_last_poll(shared))
        if probe.state is not None and any(is_building(s.name) for s in probe.state.sessions):
            for name in roll_back_abandoned(self.adapter, probe.state):
                self.reporter.record(
                    name, "note", outcome="rolled back a rebuild its builder did not finish"
                )
        if self._vanished(probe):
            # The hook runs in the background: give its line a moment before calling the
            # server's end a crash (a deliberate `kill-server` writes one).
            late = self.closed_log.wait_for_late_lines(HOOK_WAIT, self.server_line.line)
            if late:
                probe = probe.model_copy(update={"closed": (*probe.closed, *late)})
        self.server_line.note(probe.state.server.pid if probe.state is not None else None)
        if probe.state is not None:  # agents' conversations, vim sessions: a change is saved
            state = capture_resumes(probe.state, self.program_probes)
            probe = probe.model_copy(update={"state": state})
        return probe

    def _ignored(self, probe: ServerProbe) -> set[str]:
        """Live and remembered sessions that are not guarded (config `ignore`, builders)."""
        names = {s.name for s in probe.state.sessions} if probe.state else set()
        names |= {*self.memory.sessions.values(), *self.memory.missing}
        return {name for name in names if self.engine.is_ignored(name)}

    def _classify(
        self, probe: ServerProbe, shared: SharedView, skip: set[str], now: float
    ) -> ClassifyResult:
        return classify_server(
            ClassifyInput(
                probe=probe,
                memory=self.memory,
                now=now,
                skip=skip,
                restore_set=shared.restore_set,
                starting=self.starting,
                freeze_grace=self.engine.settings.freeze_grace,
                rebooted=self._rebooted(),
                under_pressure=self.under_pressure,
                saved_by_server=self._saved_by_server(probe, shared),
            )
        )

    def _saved_by_server(self, probe: ServerProbe, shared: SharedView) -> dict[str, int]:
        if not self.starting or probe.state is None:
            return {}
        return saved_by_server(self.store, self.target.socket_path, probe.state, shared)

    def _vanished(self, probe: ServerProbe) -> bool:
        return (
            probe.state is None
            and probe.error in ("absent", "not_running")
            and not probe.listeners
            and self.memory.last_ok_at is not None
            and not probe.closed
        )

    def _rebooted(self) -> bool:
        return self.starting and rebooted_since_checkpoint(self.store, self.target.socket_path)

    # -- telling and showing -------------------------------------------------------------

    def _notify(self, text: str) -> None:
        tell_attached_clients(self.adapter, self.engine.settings, text)

    def release(self) -> None:
        """Put the person's options back (the watcher is stopping); end our own client."""
        self.preparer.release()
        if self.hearing is not None:
            self.hearing.close()

    def live_state(self, watcher_pid: int, interval: float) -> dict[str, Any]:
        probe = self.last_probe
        return {
            "watcher_pid": watcher_pid,
            "server": self.target.label,
            "socket_path": self.target.socket_path,
            "updated_at": self.clock(),
            "interval": interval,
            "recovers": self.options.recover,
            "server_pid": probe.state.server.pid if probe and probe.state else self.memory.pid,
            "server_error": probe.message if probe and probe.error else None,
            "sessions": [view.as_dict() for view in self.views],
        }


def rebooted_since_checkpoint(store: CheckpointStore, socket_path: str) -> bool:
    """The newest checkpoint of this server was taken before the machine's last boot."""
    entries = store.entries(socket_path)
    if not entries:
        return False
    try:
        recorded = store.load(entries[0]).boot_id
    except Exception:
        return False
    return bool(recorded) and recorded != boot_id()


def saved_by_server(
    store: CheckpointStore, socket_path: str, state: ServerState, shared: SharedView
) -> dict[str, int]:
    """At the first poll, for each session of the restore set the live server lacks: the
    pid of the server it was last saved from."""
    live = {s.name for s in state.sessions}
    found = {}
    for name in shared.restore_set:
        if name in live:
            continue
        newest = store.newest(socket_path, name)
        if newest is not None and newest.checkpoint.server.pid is not None:
            found[name] = newest.checkpoint.server.pid
    return found
