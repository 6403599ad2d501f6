"""The disk under the state dir: checked before the watcher writes checkpoints. Below the
threshold (`min_free_mb`, or `min_free_fraction` of the file system) history is thinned to
the newest checkpoint that verifies per session, pane contents are no longer captured, and
new checkpoints keep at most two per session; said once when it starts and once when it
ends. Recoveries never depend on it: they read checkpoints, and a write that fails is
reported, never a reason to stop."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import replace

from config.settings import Retention
from guardian.operations.engine import Engine
from guardian.tmux.targets import ServerTarget
from recovery.journal import Journal
from recovery.store.thinning import thin_session

log = logging.getLogger("tmux_guardian")

MIB = 1024 * 1024
THIN_EVERY = 60.0
"""Seconds between thinnings while space stays low (the first is at once)."""
LOW_RETENTION = Retention(keep_last=2, daily_days=0)


class DiskGuard:
    """One server's view of the state dir's free space."""

    def __init__(
        self,
        engine: Engine,
        target: ServerTarget,
        statvfs: Callable[[str], os.statvfs_result] = os.statvfs,
    ) -> None:
        self.engine = engine
        self.target = target
        self.statvfs = statvfs
        self.low = False
        self.thinned_at = float("-inf")

    def free_and_needed(self) -> tuple[int, int]:
        """Bytes free to this user, and the threshold below which space is low."""
        facts = self.statvfs(str(self.engine.state_dir))
        free = facts.f_bavail * facts.f_frsize
        total = facts.f_blocks * facts.f_frsize
        settings = self.engine.settings
        return free, max(int(settings.min_free_mb * MIB), int(settings.min_free_fraction * total))

    def engine_for_writing(self) -> Engine:
        """The engine checkpoints are written with now: the person's own, or, while space
        is low, one that captures no contents and keeps two checkpoints per session."""
        try:
            free, needed = self.free_and_needed()
        except OSError:
            return self.engine  # no state dir yet: the write makes it
        low = free < needed
        if low != self.low:
            self.low = low
            self._say(free, needed)
        if not low:
            return self.engine
        if time.monotonic() - self.thinned_at >= THIN_EVERY:
            self.thinned_at = time.monotonic()
            self._thin()
        settings = self.engine.settings.model_copy(
            update={"capture_contents": False, "retention": LOW_RETENTION}
        )
        return replace(self.engine, settings=settings)

    def _say(self, free: int, needed: int) -> None:
        if self.low:
            text = (
                f"low disk space under the state dir ({free / MIB:.1f} MiB free, "
                f"{needed / MIB:.1f} MiB wanted): history thinned to the newest checkpoint "
                "of each session, pane contents no longer captured"
            )
            log.warning("%s: %s", self.target.label, text)
        else:
            text = f"disk space is back ({free / MIB:.1f} MiB free): checkpoints as configured"
            log.info("%s: %s", self.target.label, text)
        try:
            Journal(self.engine.state_dir).record(self.target.socket_path, "", "note", outcome=text)
        except OSError as exc:
            log.error("journal write failed: %s", exc)

    def _thin(self) -> None:
        store = self.engine.store
        deleted = 0
        try:
            with store.locked():
                for session_dir in store.session_dirs(self.target.socket_path):
                    deleted += len(thin_session(store, session_dir))
        except Exception as exc:  # thinning is a relief, never a failure of the guarding
            log.error("%s: thinning history failed: %s", self.target.label, exc)
            return
        if deleted:
            log.warning("%s: deleted %d older checkpoints", self.target.label, deleted)
