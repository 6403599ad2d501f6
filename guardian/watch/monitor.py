"""The monitor: each interval, every guarded server's guard polls in its own worker thread
(a frozen server never blocks the others beyond the tmux timeout), then the live-state
files are written for `status`, the TUI and scripts. An end heard as it happens (a
server's, a pane process's) prompts a poll at once and a few more just after: tmux records
an exit a moment after the kernel reports it."""

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
from guardian.programs.capture import REPROBE_AFTER
from guardian.watch.guard import GuardOptions, ServerGuard
from guardian.watch.live_state import live_state_path
from guardian.watch.outputs import WatchOutputs
from guardian.watch.pressure import SLOWER, WIDEN, CpuPressure, read_pressure
from recovery.files import atomic_write, ensure_private_dir
from recovery.health import Verdict

log = logging.getLogger("tmux_guardian")

SETTLE = 0.03
"""After a nudge, before the poll: the other ends of the same event (every pane of a
closed session, the server's socket) arrive together."""
FULL_EVERY = 3
"""Between events, a full read of every server each FULL_EVERY intervals; the rounds in
between only check that each server answers (its control client) and is not stopped."""
FOLLOW_UPS = (0.3, 1.0)
"""Polls this long after a nudge: tmux records an exit when it reaps the process, a
moment after the kernel said it ended (and Debian's tmux needs asking, FIELD_NOTES)."""


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
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken: asyncio.Event | None = None
        self.nudges = 0
        self.pressure = CpuPressure(False, "")

    def nudge(self, reason: str) -> None:
        """Poll now (from any thread): something may have ended."""
        loop, woken = self._loop, self._woken
        if loop is None or woken is None:
            return
        log.debug("prompted to look: %s", reason)
        self.nudges += 1
        with contextlib.suppress(RuntimeError):  # the loop is closing: no more polls anyway
            loop.call_soon_threadsafe(woken.set)

    def _sense_pressure(self) -> None:
        """Short of CPU: poll less often (said once, and in the live state)."""
        pressure = read_pressure()
        if pressure.high != self.pressure.high:
            if pressure.high:
                log.warning("%s: polling every %g s instead of %g s", pressure.why,
                            self.interval * WIDEN, self.interval)  # fmt: skip
            else:
                log.info("%s: polling every %g s again", pressure.why, self.interval)
        self.pressure = pressure
        for guard in self.guards:
            guard.under_pressure = pressure.high
            # programs' own files (agents' conversations) are read less often too
            guard.program_probes.reprobe_after = REPROBE_AFTER * (SLOWER if pressure.high else 1)

    @property
    def current_interval(self) -> float:
        return self.interval * (WIDEN if self.pressure.high else 1.0)

    async def poll_once(self, full: bool = True) -> list[Verdict]:
        """One round: every guard reads its server (`full`), or only checks its heartbeat."""
        self._sense_pressure()
        looks = (asyncio.to_thread(guard.look, full) for guard in self.guards)
        results = await asyncio.gather(*looks)
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
                live = guard.live_state(os.getpid(), self.current_interval)
                live["pressure"] = self.pressure.why if self.pressure.high else None
                data = json.dumps(live).encode()
                atomic_write(path, data, durable=False)
            except Exception as exc:
                log.error("cannot write live state: %s", exc)

    async def run(self, stop: asyncio.Event, *, once: bool = False) -> None:
        loop = asyncio.get_running_loop()
        self._loop, self._woken = loop, asyncio.Event()
        if self.engine.settings.events and not once:
            for guard in self.guards:
                guard.listen(self.nudge)
        follow_ups: list[float] = []
        beats = 0  # rounds since the last full read
        while not stop.is_set():
            started = loop.time()
            full, beats = beats == 0, (beats + 1) % FULL_EVERY
            try:
                await self.poll_once(full)
            except TmuxMissingError:
                raise  # nothing can be guarded: say so once and stop, never a log every second
            except TmuxError as exc:
                log.error("%s", exc)
            except Exception as exc:  # a full disk, a bad file: never the end of the guarding
                log.error("poll failed (guarding goes on): %s: %s", type(exc).__name__, exc)
            if once:
                return
            follow_ups = [t for t in follow_ups if t > loop.time()]
            due = min([started + self.current_interval, *follow_ups])
            if await self._wait(stop, max(0.0, due - loop.time())):
                now = loop.time()
                follow_ups = [now + later for later in FOLLOW_UPS]
                await asyncio.sleep(SETTLE)
            if follow_ups:
                beats = 0  # prompted to look (now, or a follow-up): a full read

    async def _wait(self, stop: asyncio.Event, delay: float) -> bool:
        """Sleep until `delay` passed, `stop` or a nudge; True for a nudge."""
        woken = self._woken
        assert woken is not None
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(woken.wait())]
        try:
            await asyncio.wait(waits, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        nudged = woken.is_set() and not stop.is_set()
        woken.clear()
        return nudged

    def release(self) -> None:
        for guard in self.guards:
            guard.release()
        self.outputs.close()
