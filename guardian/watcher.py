"""`tmux-guardian watch`: the headless watcher. Plain asyncio, never Textual.

One watcher per server (a lock in the state dir). SIGTERM/SIGINT finish the current poll,
put the person's options back, release the locks and exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import logging.handlers
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from guardian.engine import Engine
from guardian.monitor import GuardOptions, Monitor
from guardian.targets import ServerTarget
from recovery.files import ensure_private_dir
from recovery.store import server_key

log = logging.getLogger("tmux_guardian")


class WatcherBusyError(Exception):
    """Another watcher guards this server."""


def lock_path(state_dir: Path, target: ServerTarget) -> Path:
    return state_dir / "locks" / f"watch-{server_key(target.socket_path)}.lock"


def watcher_pid(state_dir: Path, target: ServerTarget) -> int | None:
    """The pid of the watcher holding this server's lock, or None when none runs."""
    path = lock_path(state_dir, target)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        return int(text) if text.isdigit() else -1
    finally:
        os.close(fd)
    return None


@contextlib.contextmanager
def watch_locks(state_dir: Path, targets: tuple[ServerTarget, ...]) -> Iterator[None]:
    fds: list[int] = []
    try:
        for target in targets:
            path = lock_path(state_dir, target)
            ensure_private_dir(path.parent)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                os.close(fd)
                raise WatcherBusyError(
                    f"another watcher (pid {holder}) already guards {target.label}"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            fds.append(fd)
        yield
    finally:
        for fd in fds:
            os.close(fd)


def setup_logging(state_dir: Path, *, verbose: bool = False, quiet: bool = False) -> None:
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.propagate = False
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    ensure_private_dir(state_dir)
    file_handler = logging.handlers.RotatingFileHandler(
        state_dir / "watch.log", maxBytes=1_000_000, backupCount=3, encoding="utf-8"
    )
    file_handler.setFormatter(fmt)
    log.addHandler(file_handler)
    if not quiet:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(logging.Formatter("tmux-guardian: %(message)s"))
        log.addHandler(stream)


def run_watch(
    engine: Engine,
    *,
    interval: float | None,
    once: bool,
    recover: bool,
    quiet: bool = False,
    verbose: bool = False,
) -> int:
    with watch_locks(engine.state_dir, engine.servers):
        setup_logging(engine.state_dir, quiet=quiet, verbose=verbose)
        options = GuardOptions(recover=recover)
        monitor = Monitor(engine, options, interval=interval)
        labels = ", ".join(t.label for t in engine.servers)
        log.info(
            "watching %s every %gs%s", labels, monitor.interval, "" if recover else " (no recovery)"
        )
        try:
            asyncio.run(_watch(monitor, once))
        finally:
            monitor.release()
            log.info("stopped")
    return 0


async def _watch(monitor: Monitor, once: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await monitor.run(stop, once=once)
