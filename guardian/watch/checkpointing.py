"""The watcher's checkpoints and restore set: a new checkpoint only for a healthy session
whose structure changed, at most once per `checkpoint_interval`, and a spare copy of one
that is alone (one damaged file must not lose a session that never changes); the restore
set follows the live server (new sessions join, only a person's close takes one out)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from guardian.operations.engine import Engine
from guardian.operations.snapshot import save_state
from guardian.tmux.targets import ServerTarget
from guardian.watch.disk_guard import DiskGuard
from recovery.health import Health, Verdict
from recovery.may_run import Trust
from recovery.models import ServerState, SessionState
from recovery.structure import structure_key

log = logging.getLogger("tmux_guardian")

SPARE_RECHECK = 60.0  # seconds between looks at whether a session's checkpoint is alone


class SessionCheckpointer:
    """Remembers, per session, the structure and time of its last checkpoint."""

    def __init__(self, engine: Engine, target: ServerTarget, clock: Callable[[], float]) -> None:
        self.engine = engine
        self.target = target
        self.clock = clock
        self.store = engine.store
        self.saved: dict[str, tuple[str, float]] = {}
        # sessions seen with two checkpoints or more, and when (a repair, or a person's
        # restore, may quarantine one since: looked at again after a failure, or a minute)
        self.spared: dict[str, float] = {}
        self.structures: dict[str, tuple[int, str]] = {}
        self.disk = DiskGuard(engine, target)
        self.written = 0
        """Checkpoints written since the watcher started (metrics)."""

    def checkpoint_changed(self, state: ServerState, verdicts: list[Verdict], now: float) -> None:
        """Only healthy sessions whose structure changed, at most once per interval each."""
        due = self._due(state, verdicts, now)
        if not due:
            return
        engine = self.disk.engine_for_writing()  # low on space: thinner, no contents
        try:
            report = save_state(engine, state, self.target, due, reason="watch", spare=True)
        except Exception as exc:  # a full disk must not stop the guarding
            log.error("%s: checkpoint failed: %s", self.target.label, exc)
            return
        self.written += sum(item.status == "saved" for item in report.sessions)
        for item in report.sessions:
            if item.status in ("saved", "unchanged"):
                session = state.session(item.session)
                if session is not None:
                    self.saved[item.session] = (structure_key(session), now)
        for note in report.notes:
            log.warning("%s: %s", self.target.label, note)

    def _due(self, state: ServerState, verdicts: list[Verdict], now: float) -> list[str]:
        healthy = {v.session for v in verdicts if v.health is Health.HEALTHY}
        due: list[str] = []
        for session in state.sessions:
            if session.name not in healthy:
                continue
            saved = self.saved.get(session.name)
            if saved is None:
                found = self.store.newest(self.target.socket_path, session.name)
                own = found is not None and found.trust is Trust.OWN and found.checkpoint.healthy
                newest = found.checkpoint if found is not None and own else None
                saved = (newest.structure, newest.created_at.timestamp()) if newest else ("", 0.0)
                self.saved[session.name] = saved
            settings = self.engine.settings
            if now - saved[1] < settings.checkpoint_interval:
                continue  # (asked first: the digest and the store cost more than the clock)
            # With contents, text printed since is worth saving too: a look every interval
            # (the snapshot compares a digest and writes only what changed).
            changed = (
                saved[0] != self._structure(session)
                or settings.capture_contents
                or self._alone(session.name, now)
            )
            if changed:
                due.append(session.name)
        return due

    def _structure(self, session: SessionState) -> str:
        """The session's structure digest, computed again only when something it is made
        of may have changed (a cheap fingerprint of the same fields first)."""
        print_ = _fingerprint(session)
        known = self.structures.get(session.name)
        if known is not None and known[0] == print_:
            return known[1]
        key = structure_key(session)
        self.structures[session.name] = (print_, key)
        return key

    def forget_spares(self, verdicts: list[Verdict]) -> None:
        """A failure's repair may quarantine a checkpoint: look again afterwards. Called at
        every poll, with or without a server to read."""
        for verdict in verdicts:
            if verdict.is_failure:
                self.spared.pop(verdict.session, None)

    def _alone(self, name: str, now: float) -> bool:
        if now - self.spared.get(name, -SPARE_RECHECK) < SPARE_RECHECK:
            return False
        if self.store.alone(self.target.socket_path, name):
            return True
        self.spared[name] = now
        return False

    def update_restore_set(
        self, state: ServerState, skip: set[str], closed: list[str], restore_set: list[str]
    ) -> None:
        """The restore set follows the live server: new sessions join, closed ones leave."""
        live = [s.name for s in state.sessions if s.name not in skip]
        # Only a person's close takes a session out of the restore set; one that is missing
        # for any other reason (not rebuilt yet, a rebuild that fell short) stays in it.
        wanted = [n for n in restore_set if n not in closed and n not in skip]
        wanted += [n for n in live if n not in wanted]
        if set(wanted) == set(restore_set) or not wanted:
            return
        try:
            with self.store.locked():
                self.store.write_manifest(
                    self.target.socket_path, wanted, datetime.fromtimestamp(self.clock(), UTC)
                )
        except Exception as exc:
            log.error("%s: cannot record the restore set: %s", self.target.label, exc)


def _fingerprint(session: SessionState) -> int:
    """A hash of what `structure_key` digests (and a little more): equal fingerprints mean
    the digest is unchanged; a collision-free guarantee is not needed, only that a change
    changes it in practice (ids and pids are in it, so a new pane or program always does)."""
    return hash(
        (
            session.name,
            tuple(
                (w.index, w.name, w.width, w.height, w.active, w.zoomed, w.layout,
                 tuple((p.pane_id, p.index, p.geometry, p.cwd, p.active, p.is_shell, p.program,
                        p.typed_commands, p.choice, p.job, p.resume) for p in w.panes))
                for w in session.windows
            ),
        )
    )  # fmt: skip
