#!/usr/bin/env python3
"""Detection and repair time of a watcher that polls rarely: ends are heard as events.

    .venv/bin/python scripts/bench_events.py [--sessions 20] [--panes 4] [--runs 20] [--interval 5]

On a private tmux server (never the user's), every pane runs `tail -f FILE` as its
command. A `tmux-guardian watch --interval INTERVAL` guards it; then
1. kill -9 of one pane's `tail` -> that pane runs `tail` again (RUNS times, a random pane);
2. kill -9 of the server (its programs die of SIGHUP, as in a real crash) -> every pane of
   every session back, each running `tail` (RUNS times).
Times are from the kill to the moment tmux itself shows the repair; median and max.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import VENV_BIN, BenchServer, bench_server


def populate(server: BenchServer, sessions: int, panes: int) -> str:
    feed = server.dir / "feed.log"
    feed.write_text("")
    tail = f"tail -f {feed}"
    commands: list[str] = []
    for s in range(sessions):
        name = f"bench-{s:03d}"
        commands += [";", "new-session", "-d", "-s", name, "-x", "200", "-y", "60", tail]
        for _ in range(panes - 1):
            commands += [";", "split-window", "-t", name, tail]
            commands += [";", "select-layout", "-t", name, "tiled"]
    server.tmux(*commands[1:])
    return tail


def panes(server: BenchServer) -> list[tuple[str, str, str]]:
    """(pane id, pid, current command) of every live pane."""
    try:
        out = server.tmux(
            "list-panes", "-a", "-F", "#{pane_id} #{pane_pid} #{pane_dead} #{pane_current_command}"
        )
    except subprocess.CalledProcessError:
        return []
    rows = [line.split() for line in out.splitlines()]
    return [(r[0], r[1], r[3] if len(r) > 3 else "") for r in rows if r[2] == "0"]


def wait_for(condition, timeout: float = 30.0) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise SystemExit("no repair within 30 s: see the watcher's log")
        time.sleep(0.005)
    return time.perf_counter()


def summary(label: str, times: list[float]) -> None:
    print(
        f"{label}: median {statistics.median(times):.2f} s, max {max(times):.2f} s, "
        f"n={len(times)}; within 1 s: {sum(t <= 1.0 for t in times)}/{len(times)}"
    )
    print("  runs: " + ", ".join(f"{t:.2f}" for t in times))


def lost(log: str) -> int:
    """Exit statuses tmux lost (its SIGCHLD bug, FIELD_NOTES): the watcher asked it to reap."""
    return sum("send SIGCHLD" in line for line in log.splitlines())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--panes", type=int, default=4)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    total = args.sessions * args.panes
    print(f"{args.sessions} sessions x {args.panes} panes = {total} panes, each `tail -f`; ")
    print(f"watcher at --interval {args.interval:g}")
    with bench_server() as server:
        populate(server, args.sessions, args.panes)
        state = Path(tempfile.mkdtemp(dir=server.dir))
        config = server.dir / "config.toml"
        # Crashing every few seconds IS a crash loop to the guardian: measured as fresh ones.
        config.write_text("grace_period = 0\n[burst]\nmax = 1000\n")
        argv = [str(VENV_BIN / "tmux-guardian"), "-S", str(server.socket), "--state-dir"]
        argv += [str(state), "--config", str(config), "watch", "--interval", str(args.interval)]
        watcher = subprocess.Popen(
            [*argv, "--quiet", "--verbose"],
            env=server.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            time.sleep(1)
            if watcher.poll() is not None:
                raise SystemExit(f"the watcher did not start: {watcher.stderr.read().decode()}")  # type: ignore[union-attr]
            wait_for(lambda: len(list((state / "checkpoints").rglob("*.json"))) >= args.sessions)
            time.sleep(1)
            pane_times = []
            for _ in range(args.runs):
                pane_id, pid, _cmd = rng.choice(panes(server))
                killed = time.perf_counter()
                os.kill(int(pid), signal.SIGKILL)
                done = wait_for(
                    lambda pane_id=pane_id, pid=pid: any(
                        p[0] == pane_id and p[1] != pid and p[2] == "tail" for p in panes(server)
                    )
                )
                pane_times.append(done - killed)
                time.sleep(rng.uniform(1.5, 2.5))  # past the follow-up polls
            summary("kill -9 of a pane's tail -> running again", pane_times)
            log = (state / "watch.log").read_text()
            print(f"  exit statuses tmux lost (the watcher sent SIGCHLD): {lost(log)}")
            crash_times = []
            for _ in range(args.runs):
                time.sleep(rng.uniform(2.0, 3.0))
                pid = int(server.tmux("display-message", "-p", "#{pid}").strip())
                killed = time.perf_counter()
                os.kill(pid, signal.SIGKILL)
                done = wait_for(
                    lambda: (
                        (now := panes(server)) != []
                        and len(now) == total
                        and all(p[2] == "tail" for p in now)
                    )
                )
                crash_times.append(done - killed)
            summary(f"kill -9 of the server -> all {total} panes running tail", crash_times)
        finally:
            watcher.terminate()
            watcher.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
