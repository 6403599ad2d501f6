#!/usr/bin/env python3
"""The monitor's costs and speed, on a private tmux server (never the user's).

    .venv/bin/python scripts/bench_monitor.py [--sessions 50] [--panes 4] [--soak 60] [--crashes 5]

1. one poll of SESSIONS x PANES (read + psutil + classify + checkpoint check), median;
2. `tmux-guardian watch` (its defaults, or --interval) for SOAK seconds: its CPU share and
   RSS, and the tmux server's CPU share beside it;
3. kill -9 of the server -> every pane rebuilt by that watcher: median over CRASHES runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchlib import VENV_BIN, BenchServer, bench_server, median_ms


def one_poll(server: BenchServer, state: Path, runs: int, *, capture: bool = True) -> None:
    """The median poll; `capture=False` leaves out the program strategies' capture (what
    they add to a poll is the difference)."""
    os.environ.update(server.env)
    from unittest import mock

    from config.settings import Settings
    from guardian.operations.engine import Engine
    from guardian.tmux.targets import ServerTarget
    from guardian.watch import guard as guard_module
    from guardian.watch.guard import GuardOptions, ServerGuard

    without = mock.patch.object(guard_module, "capture_resumes", lambda state, _cache=None: state)
    with contextlib.nullcontext() if capture else without:
        _polls(ServerGuard, Engine(Settings(), state, (ServerTarget.at_path(str(server.socket)),)),
               GuardOptions, runs, "" if capture else " without program capture")  # fmt: skip


def _polls(guard_type: Any, engine: Any, options: Any, runs: int, label: str) -> None:
    target = engine.servers[0]
    guard = guard_type(engine, target, options(recover=True, prepare=False))
    guard.listen(lambda _reason: None)  # as the watcher reads: through its control client
    guard.poll()  # the first poll writes the checkpoints
    reads, polls = [], []
    for _ in range(runs):
        start = time.perf_counter()
        guard.adapter.read_server()
        reads.append(time.perf_counter() - start)
        start = time.perf_counter()
        verdicts = guard.poll()
        polls.append(time.perf_counter() - start)
    assert len(verdicts) == len(guard.last_probe.state.sessions)  # type: ignore[union-attr]
    assert guard.adapter.control_client_pid is not None, "polls did not use the control client"
    guard.release()
    print(f"read_server (1 list-panes + psutil):  {median_ms(reads)}")
    print(f"one full poll (read+classify+ckpt){label}: {median_ms(polls)}")
    resumes = [
        p.resume for s in guard.last_probe.state.sessions for w in s.windows for p in w.panes
        if p.resume is not None
    ]  # fmt: skip
    if resumes:
        found = ", ".join(f"{r.strategy} {r.found_by or 'none'}" for r in resumes)
        print(f"  programs captured: {len(resumes)} ({found})")
        from guardian.programs.capture import ProbeCache, capture_resumes

        state, cache = guard.last_probe.state, ProbeCache()
        for label, kept in (("every probe read", None), ("the watcher's cache", cache)):
            alone = []
            for _ in range(runs):
                start = time.perf_counter()
                capture_resumes(state, kept)
                alone.append(time.perf_counter() - start)
            print(f"  the capture alone, {label}: {median_ms(alone)}")


def start_watcher(
    server: BenchServer, state: Path, config: Path, interval: float | None
) -> subprocess.Popen[bytes]:
    argv = [
        str(VENV_BIN / "tmux-guardian"),
        "-S",
        str(server.socket),
        "--state-dir",
        str(state),
        "--config",
        str(config),
        "watch",
        *(["--interval", f"{interval:g}"] if interval else []),
        "--quiet",
    ]
    return subprocess.Popen(
        argv, env=server.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def soak(
    server: BenchServer, watcher: psutil.Process, seconds: float, label: str, warmup: float
) -> None:
    tmux = psutil.Process(int(server.tmux("display-message", "-p", "#{pid}").strip()))
    time.sleep(warmup)  # past start-up (and, at 70 s, the first checkpoints and their spares)
    w0, t0, wall0 = sum(watcher.cpu_times()[:2]), sum(tmux.cpu_times()[:2]), time.monotonic()
    rss = 0
    while time.monotonic() - wall0 < seconds:
        rss = max(rss, watcher.memory_info().rss)
        time.sleep(1)
    wall = time.monotonic() - wall0
    w1, t1 = sum(watcher.cpu_times()[:2]), sum(tmux.cpu_times()[:2])
    print(
        f"watcher over {wall:.0f}s at {label}: {100 * (w1 - w0) / wall:.2f}% of one core, "
        f"max RSS {rss / 2**20:.1f} MB"
    )
    print(f"tmux server over the same time:        {100 * (t1 - t0) / wall:.2f}% of one core")


def crashes(server: BenchServer, runs: int, expected: int, state: Path) -> None:
    times = []
    for _ in range(runs):
        time.sleep(2.5)  # let the watcher learn the (new) server
        killed = server.kill()
        deadline = killed + 20
        while server.pane_count() != expected:
            if time.perf_counter() > deadline:
                log = (state / "watch.log").read_text().splitlines()[-15:]
                raise SystemExit(
                    f"the watcher did not rebuild every pane within 20 s "
                    f"({server.pane_count()} of {expected}); its log ends:\n" + "\n".join(log)
                )
            time.sleep(0.01)
        times.append(time.perf_counter() - killed)
    print(f"kill -9 -> all {expected} panes rebuilt:  {median_ms(times)}")
    print("  runs: " + ", ".join(f"{t:.2f}s" for t in times))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--panes", type=int, default=4)
    parser.add_argument("--polls", type=int, default=100)
    parser.add_argument("--soak", type=float, default=60)
    parser.add_argument("--crashes", type=int, default=5)
    parser.add_argument(
        "--interval", type=float, default=None, help="the watcher's interval (default: its own)"
    )
    parser.add_argument(
        "--warmup", type=float, default=3, help="seconds after start before the soak counts"
    )
    parser.add_argument(
        "--agents", type=int, default=0, help="agents (stand-ins) running in that many panes"
    )
    args = parser.parse_args()
    total = args.sessions * args.panes
    print(f"{args.sessions} sessions x {args.panes} panes = {total} panes")
    with bench_server() as server:
        server.populate(args.sessions, args.panes)
        if args.agents:
            print(f"agents running: {', '.join(server.start_agents(args.agents))}")
            one_poll(server, Path(tempfile.mkdtemp(dir=server.dir)), args.polls, capture=False)
        one_poll(server, Path(tempfile.mkdtemp(dir=server.dir)), args.polls)
        state = Path(tempfile.mkdtemp(dir=server.dir))
        config = server.dir / "config.toml"
        # Crashing every few seconds IS a crash loop to the guardian (it backs off, then
        # gives up): each benchmark crash is measured as a fresh one instead.
        config.write_text("grace_period = 0\n[burst]\nmax = 1000\n")
        watcher = start_watcher(server, state, config, args.interval)
        try:
            process = psutil.Process(watcher.pid)
            if args.soak > 0:
                label = f"{args.interval:g}s interval" if args.interval else "default settings"
                soak(server, process, args.soak, label, args.warmup)
            if args.crashes > 0:
                crashes(server, args.crashes, total, state)
        finally:
            watcher.terminate()
            watcher.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
