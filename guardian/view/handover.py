"""A UI that guards hands its guard over to a watcher started with `watch --take-over`."""

from __future__ import annotations

import os
import time

from guardian.operations.engine import Engine
from guardian.watch.locks import handover_asked, watcher_pid

WAIT = 15.0
"""Seconds a window that handed over waits for the watcher to take the lock before it
guards again (the watcher retries every 0.1 s: it takes it long before)."""


class Handover:
    """Whether a watcher asks this window for its guard, and the wait after it gave it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.to: tuple[int, float] | None = None
        """The watcher this window handed its guard to, and until when it waits for it."""

    def asked(self) -> bool:
        """True when a live watcher asks to take one of the servers over."""
        for target in self.engine.servers:
            asker = handover_asked(target)
            if asker is not None:
                self.to = (asker, time.monotonic() + WAIT)
                return True
        return False

    def waiting(self) -> bool:
        """While the watcher it handed over to lives and has yet to take the lock, this
        window does not take it back."""
        if self.to is None:
            return False
        pid, until = self.to
        if time.monotonic() < until and _alive(pid) and not self._taken(pid):
            return True
        self.to = None
        return False

    def _taken(self, pid: int) -> bool:
        return all(watcher_pid(self.engine.state_dir, t) == pid for t in self.engine.servers)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True
