"""Keeping a guarded server prepared across its lifetime: prepared once per server pid,
the hook checked every few polls and installed again when a person's `source-file` or
`set-hook` removed it; the person's options put back when the watcher stops."""

from __future__ import annotations

import logging
from pathlib import Path

from guardian.errors import TmuxError
from guardian.tmux.adapter import TmuxAdapter
from guardian.tmux.prepare import Preparation, hook_installed, prepare, unprepare
from recovery.files import StoreWriteError

log = logging.getLogger("tmux_guardian")

HOOK_CHECK_EVERY = 5


class ServerPreparer:
    def __init__(self, adapter: TmuxAdapter, state_dir: Path, *, enabled: bool) -> None:
        self.adapter = adapter
        self.state_dir = state_dir
        self.enabled = enabled
        self.preparation: Preparation | None = None

    @property
    def label(self) -> str:
        return self.adapter.target.label

    def keep_prepared(self, pid: int | None, poll_number: int) -> None:
        if not self.enabled:
            return
        try:
            if self.preparation is None or self.preparation.pid != pid:
                self.preparation = prepare(self.adapter, self.state_dir, pid)
                log.info("%s: prepared server pid %s", self.label, pid)
            elif poll_number % HOOK_CHECK_EVERY == 0 and not hook_installed(
                self.adapter, self.state_dir
            ):
                self.preparation = prepare(self.adapter, self.state_dir, pid)
                log.warning("%s: session-closed hook was gone; installed again", self.label)
        except (TmuxError, OSError, StoreWriteError) as exc:  # a full disk included
            log.warning("%s: cannot prepare the server: %s", self.label, exc)

    @property
    def person_keeps_dead_panes(self) -> bool:
        return self.preparation is not None and self.preparation.person_keeps_dead_panes

    def forget_server(self) -> None:
        """A new server was built: prepare it at the next poll."""
        self.preparation = None

    def release(self) -> None:
        """Put the person's options back (the watcher is stopping)."""
        if self.preparation is None:
            return
        try:
            unprepare(self.adapter, self.state_dir, self.preparation)
        except TmuxError as exc:
            log.info("%s: options not restored (%s)", self.label, exc)
