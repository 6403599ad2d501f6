#!/usr/bin/env python3
"""Restore of the same sessions by tmux-guardian and by `tmuxp load`, in one run.

    .venv/bin/python scripts/bench_peers.py [--sessions 20] [--panes 4] [--runs 5]

The sessions are snapshotted once, exported as tmuxp workspaces (`tmux-guardian export
tmuxp`), then the private server is killed and rebuilt by each tool in turn; time is whole
processes until every pane exists. Never touches the user's tmux server.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import VENV_BIN, bench_server, median_ms, timed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--panes", type=int, default=4)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    guardian = str(VENV_BIN / "tmux-guardian")
    tmuxp = shutil.which("tmuxp", path=str(VENV_BIN)) or shutil.which("tmuxp")
    if tmuxp is None:
        print("tmuxp is not installed (pip install tmuxp): no peer to compare with")
        return 1
    total = args.sessions * args.panes
    names = [f"bench-{s:03d}" for s in range(args.sessions)]
    print(f"{args.sessions} sessions x {args.panes} panes = {total} panes, {args.runs} runs")
    with bench_server() as server:
        server.populate(args.sessions, args.panes)
        sock, env = str(server.socket), server.env
        state = Path(tempfile.mkdtemp(dir=server.dir))
        base = [guardian, "-S", sock, "--state-dir", str(state)]
        subprocess.run([*base, "snapshot"], check=True, capture_output=True, env=env)
        workspaces = Path(tempfile.mkdtemp(dir=server.dir))
        files = []
        for name in names:
            target = workspaces / f"{name}.yaml"
            subprocess.run(
                [*base, "export", "tmuxp", name, "-o", str(target)],
                check=True,
                capture_output=True,
                env=env,
            )
            files.append(str(target))

        def rebuild(argv: list[str]) -> list[float]:
            samples = []
            for _ in range(args.runs):
                server.kill()
                samples.append(
                    timed(lambda: subprocess.run(argv, check=True, capture_output=True, env=env))
                )
                if server.pane_count() != total:
                    raise SystemExit(f"{argv[0]} rebuilt {server.pane_count()} of {total} panes")
            return samples

        ours = rebuild([*base, "restore"])
        peer = rebuild([tmuxp, "load", "-d", "-y", "-S", sock, *files])
        print(f"tmux-guardian restore:          {median_ms(ours)}")
        print(f"tmuxp load (exported files):    {median_ms(peer)}")
        ratio = statistics.median(peer) / statistics.median(ours)
        print(f"ratio tmuxp / tmux-guardian:    {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
