"""`tmux-guardian watch`: the headless watcher. Plain asyncio, never Textual.

One watcher per server (a lock in the state dir). SIGTERM/SIGINT finish the current poll,
put the person's options back, release the locks and exit 0.
"""

from __future__ import annotations

import asyncio
import io
import logging
import logging.handlers
import os
import signal
import sys
from pathlib import Path

from guardian.operations.engine import Engine
from guardian.watch.guard import GuardOptions
from guardian.watch.locks import watch_locks
from guardian.watch.monitor import Monitor
from recovery.files import ensure_private_dir

log = logging.getLogger("tmux_guardian")


class PrivateLogHandler(logging.handlers.RotatingFileHandler):
    """The watcher's log: 0600, never written through a link planted in its place."""

    def _open(self) -> io.TextIOWrapper:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(self.baseFilename, flags, 0o600)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


def setup_logging(state_dir: Path, *, verbose: bool = False, quiet: bool = False) -> None:
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.propagate = False
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    ensure_private_dir(state_dir)
    file_handler = PrivateLogHandler(
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
    take_over: bool = False,
) -> int:
    """`take_over`: a UI that guards is asked to hand over (waiting up to 30 s for it)."""
    with watch_locks(engine.state_dir, engine.servers, take_over=30.0 if take_over else 0.0):
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
