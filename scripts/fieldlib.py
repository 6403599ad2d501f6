"""What the chaos and soak runs share: a private server of sessions running real programs
(never the user's server: a socket under a fresh temp dir, killed by its own pid), a
watcher process with its own state dir, and what runs in each pane read from /proc."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
# The code of this very tree (a frozen worktree runs its own code, not the editable install's,
# which may change under a run that lasts an hour).
PROGRAM = [sys.executable, "-m", "guardian.cli"]

# Each session: windows of panes, each pane's program as typed at its shell ("" = a shell),
# or, prefixed "!", the pane's own command.
LAYOUT: dict[str, list[list[str]]] = {
    "edit": [["vim -n notes.txt", ""], ["less -S README"]],
    "logs": [["!tail -f app.log", "tail -f app.log | grep --line-buffered ERROR"]],
    "mon": [["top -d 60"], ["", ""]],
    "notes": [["less notes.txt"]],
}


SHELLS = {"sh", "bash", "dash", "zsh", "fish"}


def stop_on_sigterm() -> None:
    """SIGTERM ends a run like Ctrl-C: its servers and watcher are cleaned up (a run in
    the background ignores SIGINT)."""
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def wait_for(condition: Callable[[], object], timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            if condition():
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


def why_not(condition: Callable[[], object]) -> str:
    """One more look at a condition that was not met: false, or the error it raised."""
    try:
        return "met now" if condition() else "not met"
    except Exception as error:
        return f"{type(error).__name__}: {error}"


def foreground(pane_pid: int) -> list[list[str]]:
    """argv of the pane's foreground job (without tmux's `sh -c` wrapper), oldest first."""
    stat = Path(f"/proc/{pane_pid}/stat").read_text().rsplit(")", 1)[1].split()
    tpgid = int(stat[5])
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "status", "create_time"]):
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if os.getpgid(proc.pid) == tpgid and proc.info["status"] != "zombie":
                found.append((proc.info["create_time"], proc.pid, proc.info["cmdline"]))
    jobs = [argv for _, _, argv in sorted(found)]
    return [a for a in jobs if a and not _is_shell(a)]


def _is_shell(argv: list[str]) -> bool:
    """The pane's shell at its prompt, or tmux's `sh -c` wrapper: not a job."""
    return Path(argv[0]).name.lstrip("-") in SHELLS


@dataclass
class Field:
    """A private tmux server and a watcher guarding it, in one temp dir."""

    dir: Path
    interval: float = 0.5

    def __post_init__(self) -> None:
        self.home = self.dir / "home"
        self.work = self.dir / "work"
        self.state = self.dir / "state"
        self.socket = self.dir / "s"
        for path in (self.home, self.work):
            path.mkdir(parents=True, exist_ok=True)
        (self.work / "notes.txt").write_text("notes\n" * 30)
        (self.work / "README").write_text("read me\n" * 100)
        (self.work / "app.log").write_text("start\n")
        self.env = dict(os.environ)
        self.env.update(
            HOME=str(self.home), SHELL="/bin/sh", ENV="",
            TMUX_GUARDIAN_STATE_DIR=str(self.state), TMUX_GUARDIAN_KEY_DIR=str(self.dir / "key"),
            TMUX_GUARDIAN_CONFIG=str(self.dir / "config.toml"),
        )  # fmt: skip
        self.env.pop("TMUX", None)
        self.env["PYTHONPATH"] = str(ROOT)
        allow = ["vim", "less", "tail", "top", "grep"]
        (self.dir / "config.toml").write_text(
            f"allowlist = {json.dumps(allow)}\ncheckpoint_interval = 1\ngrace_period = 2\n"
            "[burst]\nmax = 1000\nwindow = 60\n"
        )
        self.watcher: subprocess.Popen[bytes] | None = None

    @classmethod
    def create(cls, interval: float = 0.5) -> Field:
        return cls(Path(tempfile.mkdtemp(prefix="tg-field-", dir="/tmp")), interval)

    def tmux(self, *args: str, check: bool = True, timeout: float = 5) -> str:
        done = subprocess.run(
            ["tmux", "-S", str(self.socket), "-f", "/dev/null", *args],
            capture_output=True, text=True, env=self.env, timeout=timeout, check=False,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def guardian(self, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [*PROGRAM, "-S", str(self.socket), *args]
        return subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=120)

    def build_session(self, name: str) -> None:
        for w, window in enumerate(LAYOUT[name]):
            for p, program in enumerate(window):
                own = program[1:] if program.startswith("!") else None
                where = ["-c", str(self.work), *([own] if own else [])]
                if w == 0 and p == 0:
                    self.tmux("new-session", "-d", "-s", name, "-x", "160", "-y", "48", *where)
                elif p == 0:
                    self.tmux("new-window", "-t", f"={name}:", *where)
                else:
                    self.tmux("split-window", "-t", f"={name}:{w}", *where)
                if program and not own:
                    self.tmux("send-keys", "-t", f"={name}:{w}.{p}", "-l", program)
                    self.tmux("send-keys", "-t", f"={name}:{w}.{p}", "Enter")
            self.tmux("set-option", "-w", "-t", f"={name}:{w}", "automatic-rename", "off")

    def expected(self, names: list[str]) -> dict[tuple[str, int, int], list[list[str]]]:
        """What each pane of these sessions should run, as argv lists (from the layout)."""
        wanted: dict[tuple[str, int, int], list[list[str]]] = {}
        for name in names:
            for w, window in enumerate(LAYOUT[name]):
                for p, program in enumerate(window):
                    text = program.lstrip("!")
                    stages = [s.split() for s in text.split(" | ")] if text else []
                    wanted[(name, w, p)] = stages
        return wanted

    def running(self) -> dict[tuple[str, int, int], list[list[str]]]:
        found: dict[tuple[str, int, int], list[list[str]]] = {}
        fields = "#{session_name}\t#{window_index}\t#{pane_index}\t#{pane_pid}\t#{pane_dead}"
        out = self.tmux("list-panes", "-a", "-F", fields)
        for line in out.splitlines():
            name, w, p, pid, dead = line.split("\t")
            found[(name, int(w), int(p))] = [] if dead == "1" else foreground(int(pid))
        return found

    def server_pid(self) -> int | None:
        with contextlib.suppress(RuntimeError, ValueError):
            return int(self.tmux("display-message", "-p", "#{pid}").strip())
        return None

    def start_watcher(self, *extra: str) -> None:
        argv = [*PROGRAM, "-S", str(self.socket), "watch", "--quiet", "--verbose",
                "--interval", str(self.interval), *extra]  # fmt: skip
        self.watcher = subprocess.Popen(argv, env=self.env)

    def stop_watcher(self, sig: int = signal.SIGTERM) -> None:
        if self.watcher is not None and self.watcher.poll() is None:
            self.watcher.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.watcher.wait(10)
        self.watcher = None

    def journal(self) -> list[dict[str, object]]:
        path = self.state / "journal.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def servers(self) -> list[psutil.Process]:
        """tmux processes started for this field's socket (its path is in their argv):
        the only servers this harness ever kills."""
        found = []
        for proc in psutil.process_iter(["name", "cmdline"]):
            argv = proc.info["cmdline"] or []
            if (proc.info["name"] or "").startswith("tmux") and str(self.socket) in argv:
                found.append(proc)
        return found

    def close(self) -> None:
        self.stop_watcher()
        self.kill_servers()
        if os.environ.get("TG_FIELD_KEEP"):
            print(f"kept {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def kill_servers(self) -> None:
        """Kill this field's servers and their programs, and wait until they are gone: a
        client started meanwhile would reach the dying server ("server exited
        unexpectedly") instead of starting a new one."""
        killed: list[psutil.Process] = []
        for server in self.servers():
            with contextlib.suppress(psutil.Error):
                programs = server.children(recursive=True)
                server.resume()  # a stopped server cannot die of SIGKILL any later
                server.kill()
                killed.append(server)
                for proc in programs:
                    with contextlib.suppress(psutil.Error):
                        proc.kill()
        deadline = time.monotonic() + 5
        while any(_alive(p) for p in killed) and time.monotonic() < deadline:
            time.sleep(0.02)


def _alive(process: psutil.Process) -> bool:
    """Still running (a zombie is dead: only its parent has yet to reap it)."""
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
