"""The monitor: each interval, every guarded server's guard polls in its own worker thread
(a frozen server never blocks the others beyond the tmux timeout), then the live-state
files are written for `status`, the TUI and scripts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable

from guardian.errors import TmuxError, TmuxMissingError
from guardian.operations.engine import Engine
from guardian.watch.guard import GuardOptions, ServerGuard
from guardian.watch.live_state import live_state_path
from guardian.watch.outputs import WatchOutputs
from recovery.files import atomic_write, ensure_private_dir
from recovery.health import Verdict

log = logging.getLogger("tmux_guardian")


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
        self.outputs = WatchOutputs(engine, self.guards)  # alerts and metrics

    async def poll_once(self) -> list[Verdict]:
        results = await asyncio.gather(*(asyncio.to_thread(guard.poll) for guard in self.guards))
        if self.write_live_state:
            await asyncio.to_thread(self._write_live_states)
        await self.outputs.after_poll(self.guards, time.time())
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
            except Exception as exc:  # a full disk, a bad file: never the end of the guarding
                log.error("poll failed (guarding goes on): %s: %s", type(exc).__name__, exc)
            if once:
                return
            delay = max(0.0, self.interval - (loop.time() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)

    def release(self) -> None:
        for guard in self.guards:
            guard.release()
        self.outputs.close()
