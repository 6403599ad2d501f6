"""Hearing a process end the instant it does: a pidfd per watched process (a server, the
process of each pane), readable the moment the process exits, before anyone reaps it (so
it also hears a pane whose exit tmux never recorded). Linux 5.3+; elsewhere it hears
nothing and polling alone finds the end."""

from __future__ import annotations

import contextlib
import os
import select
import threading
from collections.abc import Callable, Iterable

MAX_WATCHED = 4096
"""Beyond this many processes (file descriptors) the rest are left to polling."""


class ExitWatch:
    """Calls `on_exit(pid)` from its own thread when a watched process ends."""

    def __init__(self, on_exit: Callable[[int], None]) -> None:
        self._on_exit = on_exit
        self._fds: dict[int, int] = {}  # pid -> pidfd
        self._lock = threading.Lock()
        self._poller = select.poll()
        self._wake_read, self._wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._poller.register(self._wake_read, select.POLLIN)
        self._closed = False
        self.supported = hasattr(os, "pidfd_open")
        self._thread = threading.Thread(target=self._run, name="exit-watch", daemon=True)
        self._thread.start()

    def watch(self, pids: Iterable[int]) -> None:
        """Watch exactly these processes from now on (the set a poll just saw)."""
        if not self.supported or self._closed:
            return
        wanted = {pid for pid in pids if pid > 0}
        with self._lock:
            for pid in [p for p in self._fds if p not in wanted]:
                self._forget(pid)
            for pid in wanted - self._fds.keys():
                if len(self._fds) >= MAX_WATCHED:
                    break
                try:
                    fd = os.pidfd_open(pid)
                except ProcessLookupError:
                    continue  # already gone: the poll that follows finds it
                except OSError:
                    self.supported = False  # no pidfds here (an old kernel, seccomp)
                    return
                self._fds[pid] = fd
                self._poller.register(fd, select.POLLIN)
        with contextlib.suppress(OSError):
            os.write(self._wake_write, b"x")

    @property
    def watched(self) -> set[int]:
        with self._lock:
            return set(self._fds)

    def _forget(self, pid: int) -> None:
        fd = self._fds.pop(pid)
        with contextlib.suppress(KeyError, ValueError):
            self._poller.unregister(fd)
        os.close(fd)

    def _run(self) -> None:
        while not self._closed:
            try:
                ready = self._poller.poll()
            except (OSError, ValueError):
                return
            ended: list[int] = []
            with self._lock:
                by_fd = {fd: pid for pid, fd in self._fds.items()}
                for fd, _events in ready:
                    if fd == self._wake_read:
                        with contextlib.suppress(OSError):
                            os.read(self._wake_read, 4096)
                    elif fd in by_fd:
                        ended.append(by_fd[fd])
                        self._forget(by_fd[fd])
            for pid in ended:
                with contextlib.suppress(Exception):  # a listener's failure never stops us
                    self._on_exit(pid)

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            os.write(self._wake_write, b"x")
        self._thread.join(timeout=1)
        with self._lock:
            for pid in list(self._fds):
                self._forget(pid)
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)
