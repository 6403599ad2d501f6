#!/usr/bin/env python3
"""Snapshot and restore of 50 sessions x 4 panes, beside `tmuxp freeze` in the same run.

    .venv/bin/python scripts/bench_snapshot.py [--sessions 50] [--panes 4] [--runs 7]

Everything runs against a private tmux server (-S under a temp dir), never the user's.
Times are whole processes, start-up included, as a person or cron would run them.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import VENV_BIN, bench_server, median_ms, timed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--panes", type=int, default=4)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    guardian = str(VENV_BIN / "tmux-guardian")
    tmuxp = shutil.which("tmuxp", path=str(VENV_BIN)) or shutil.which("tmuxp")
    total = args.sessions * args.panes
    print(f"{args.sessions} sessions x {args.panes} panes = {total} panes, {args.runs} runs")

    with bench_server() as server:
        server.populate(args.sessions, args.panes)
        assert server.pane_count() == total
        sock = str(server.socket)
        env = server.env

        def snapshot(state: Path) -> None:
            subprocess.run([guardian, "-S", sock, "--state-dir", str(state), "snapshot", "--json"],
                           check=True, capture_output=True, env=env)  # fmt: skip

        full, unchanged = [], []
        for run in range(args.runs):
            state = Path(tempfile.mkdtemp(dir=server.dir, prefix=f"state{run}-"))
            full.append(timed(lambda state=state: snapshot(state)))
            unchanged.append(timed(lambda state=state: snapshot(state)))
        print(f"tmux-guardian snapshot (all written):   {median_ms(full)}")
        print(f"tmux-guardian snapshot (none changed):  {median_ms(unchanged)}")

        peer_cli = peer_api = None
        if tmuxp:
            out = Path(tempfile.mkdtemp(dir=server.dir))
            names = [f"bench-{s:03d}" for s in range(args.sessions)]

            def freeze_cli() -> None:
                for name in names:
                    target = str(out / f"{name}.yaml")
                    subprocess.run([tmuxp, "freeze", "-S", sock, name, "-o", target,
                                    "--yes", "--quiet", "--force"],
                                   check=True, capture_output=True, env=env)  # fmt: skip

            freeze_api_code = (
                "import sys, libtmux, yaml\n"
                "from tmuxp.workspace.freezer import freeze\n"
                "server = libtmux.Server(socket_path=sys.argv[1])\n"
                "for session in server.sessions:\n"
                "    with open(f'{sys.argv[2]}/{session.name}.yaml', 'w') as fh:\n"
                "        yaml.safe_dump(freeze(session), fh)\n"
            )

            def freeze_api() -> None:
                subprocess.run([str(VENV_BIN / "python"), "-c", freeze_api_code, sock, str(out)],
                               check=True, capture_output=True, env=env)  # fmt: skip

            peer_api = [timed(freeze_api) for _ in range(args.runs)]
            peer_cli = [timed(freeze_cli) for _ in range(max(1, args.runs // 3))]
            print(f"tmuxp freeze, one process, all sessions: {median_ms(peer_api)}")
            print(f"tmuxp freeze CLI, one call per session:  {median_ms(peer_cli)}")
        else:
            print("tmuxp not installed: no peer figures (pip install tmuxp)")

        state = Path(tempfile.mkdtemp(dir=server.dir, prefix="restore-"))
        snapshot(state)

        def restore(names: list[str], expect: int) -> list[float]:
            samples = []
            for _ in range(args.runs):
                server.kill()
                samples.append(timed(lambda: subprocess.run(
                    [guardian, "-S", sock, "--state-dir", str(state), "restore", "--json", *names],
                    check=True, capture_output=True, env=env)))  # fmt: skip
                assert server.pane_count() == expect, "restore did not rebuild every pane"
            return samples

        print(f"tmux-guardian restore, {total} panes (until verified): "
              f"{median_ms(restore([], total))}")  # fmt: skip
        if args.sessions * args.panes > 160 and 160 % args.panes == 0:
            some = [f"bench-{s:03d}" for s in range(160 // args.panes)]
            print(f"tmux-guardian restore, 160 panes (until verified): "
                  f"{median_ms(restore(some, 160))}")  # fmt: skip

        import statistics

        ours = statistics.median(full)
        if peer_api:
            print(f"ratio tmuxp freeze (one process) / guardian snapshot: "
                  f"{statistics.median(peer_api) / ours:.1f}x")  # fmt: skip
        if peer_cli:
            print(f"ratio tmuxp freeze (CLI per session) / guardian snapshot: "
                  f"{statistics.median(peer_cli) / ours:.1f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
