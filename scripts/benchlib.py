"""Helpers for benchmarks: private tmux servers only, killed by their own socket."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin"


def hermetic_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HOME=str(home), SHELL="/bin/sh", ENV="")
    env.pop("TMUX", None)
    return env


class BenchServer:
    """A tmux server on a private socket under a fresh temp dir."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tg-bench-", dir="/tmp"))
        self.home = self.dir / "home"
        self.home.mkdir()
        self.socket = self.dir / "s"
        self.env = hermetic_env(self.home)

    def tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-S", str(self.socket), "-f", "/dev/null", *args],
            capture_output=True, text=True, check=True, env=self.env, timeout=60,
        ).stdout  # fmt: skip

    def populate(self, sessions: int, panes: int) -> None:
        commands: list[str] = []
        for s in range(sessions):
            commands += [";", "new-session", "-d", "-s", f"bench-{s:03d}", "-x", "200", "-y", "60"]
            for _ in range(panes - 1):
                commands += [";", "split-window", "-t", f"bench-{s:03d}", ";",
                             "select-layout", "-t", f"bench-{s:03d}", "tiled"]  # fmt: skip
        self.tmux(*commands[1:])

    def start_agents(self, count: int) -> list[str]:
        """Agents (the tests' stand-ins, which leave the real tools' files) in the first
        `count` sessions' first panes, each past its first message; their names."""
        standins = ROOT / "tests" / "standins" / "bin"
        self.env["PATH"] = f"{standins}{os.pathsep}{self.env['PATH']}"
        self.tmux("set-environment", "-g", "PATH", self.env["PATH"])
        mix = ("claude", "claude --model opus", "codex -m o3", "opencode", "gemini", "aider")
        started = []
        for n in range(count):
            command = mix[n % len(mix)]
            target = f"bench-{n:03d}:0.0"
            work = self.dir / f"work-{n:03d}"
            work.mkdir(exist_ok=True)
            # `exec env PATH=...`: the pane's login shell reset PATH (/etc/profile)
            line = f"cd {work} && PATH={standins}:$PATH {command}"
            self.tmux("send-keys", "-t", target, "-l", line)
            self.tmux("send-keys", "-t", target, "Enter")
            started.append(command.split()[0])
        time.sleep(3)  # node and python start-ups
        for n in range(count):
            self.tmux("send-keys", "-t", f"bench-{n:03d}:0.0", "-l", "hello")
            self.tmux("send-keys", "-t", f"bench-{n:03d}:0.0", "Enter")
        time.sleep(1)
        return started

    def pane_count(self) -> int:
        try:
            return len(self.tmux("list-panes", "-a", "-F", "x").split())
        except subprocess.CalledProcessError:
            return 0

    def kill(self) -> float:
        """kill -9 the server and every pane program (a reboot, in effect). Returns the
        perf_counter time of the server's SIGKILL."""
        killed_at = time.perf_counter()
        with contextlib.suppress(subprocess.CalledProcessError, ValueError):
            pid = int(self.tmux("display-message", "-p", "#{pid}").strip())
            procs = psutil.Process(pid).children(recursive=True)
            killed_at = time.perf_counter()
            os.kill(pid, signal.SIGKILL)
            for proc in procs:
                with contextlib.suppress(psutil.Error):
                    proc.kill()
            psutil.wait_procs(procs, timeout=5)
            deadline = time.monotonic() + 5
            while psutil.pid_exists(pid) and time.monotonic() < deadline:
                with contextlib.suppress(psutil.Error):
                    if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                        break
                time.sleep(0.01)
        return killed_at

    def close(self) -> None:
        self.kill()
        if os.environ.get("TG_BENCH_KEEP"):
            print(f"kept {self.dir}")
            return
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def bench_server() -> Iterator[BenchServer]:
    server = BenchServer()
    try:
        yield server
    finally:
        server.close()


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_ms(samples: list[float]) -> str:
    median, low = statistics.median(samples) * 1000, min(samples) * 1000
    return f"{median:7.1f} ms (min {low:.1f}, n={len(samples)})"
