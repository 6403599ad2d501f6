"""Shared fixtures: a hermetic environment and private tmux servers (never the user's)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import libtmux
import psutil
import pytest

from guardian.cli import main
from guardian.tmux.names import tmux_arg
from tests.zombies import ZombieHolder

TMUX = shutil.which("tmux")
needs_tmux = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


@pytest.fixture(autouse=True)
def hermetic_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME, shell, state dir and config all temporary: no personal tmux.conf leaks in."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SHELL", "/bin/sh")
    monkeypatch.setenv("ENV", "")  # no start-up file for sh
    monkeypatch.setenv("TMUX_GUARDIAN_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("TMUX_GUARDIAN_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.delenv("TMUX_PANE", raising=False)
    monkeypatch.delenv("TMUX_GUARDIAN_TMUX", raising=False)
    # A tmuxp import builds at the terminal's size, as tmuxp does: never the developer's.
    for name in (
        "ROWS",
        "TMUXP_DEFAULT_COLUMNS",
        "TMUXP_DEFAULT_ROWS",
        "TMUXP_DETECT_TERMINAL_SIZE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "24")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    # The signing key's one fixed path is in the real home (from the password database):
    # tests move it, or they would write into ~.
    monkeypatch.setenv("TMUX_GUARDIAN_KEY_DIR", str(tmp_path / "key"))
    monkeypatch.setenv("TZ", "UTC")  # the UI shows local times: snapshots must not vary
    time.tzset()
    return tmp_path


@pytest.fixture
def state_dir(hermetic_env: Path) -> Path:
    return hermetic_env / "state"


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def guardian() -> Callable[..., Result]:
    """Run the CLI in-process, like `tmux-guardian ARGS...`."""

    def run(*args: str) -> Result:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse usage errors
                code = int(exc.code or 0)
        return Result(code, out.getvalue(), err.getvalue())

    return run


class PrivateServer:
    """A tmux server on a private socket; `cmd` runs tmux against it and nothing else.

    Its first server is started under a subreaper (tests/zombies.py) that holds the dead
    pane programs as zombies for 2 s: a crash in a test leaves what a real one leaves."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket
        self.extra_pids: list[int] = []
        self.holder: ZombieHolder | None = None

    def cmd(self, *args: str, check: bool = True) -> str:
        argv = ["tmux", "-S", str(self.socket), "-f", "/dev/null", *map(tmux_arg, args)]
        if self.holder is None and args and args[0] == "new-session" and "-d" in args:
            self.holder = ZombieHolder.running(argv)
            return self.holder.output
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    @property
    def libtmux(self) -> libtmux.Server:
        return libtmux.Server(socket_path=str(self.socket))

    def pid(self) -> int:
        return int(self.cmd("display-message", "-p", "#{pid}").strip())

    def pane_pids(self) -> list[int]:
        out = self.cmd("list-panes", "-a", "-F", "#{pane_pid}", check=False)
        return [int(x) for x in out.split()]

    def descendants(self) -> list[psutil.Process]:
        found: list[psutil.Process] = []
        for pid in self.pane_pids():
            with contextlib.suppress(psutil.Error):
                proc = psutil.Process(pid)
                found += [proc, *proc.children(recursive=True)]
        return found

    def crash(self, *, kill_programs: bool = False) -> None:
        """kill -9 the server, as a crash would: its programs die of SIGHUP on their own
        (and stay zombies for 2 s); `kill_programs` kills them too, and waits (a reboot)."""
        programs = self.descendants() if kill_programs else []
        pid = self.pid()
        os.kill(pid, signal.SIGKILL)
        for proc in programs:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        wait_until(lambda: not psutil.pid_exists(pid) or _is_zombie(pid))
        psutil.wait_procs(programs, timeout=3)

    def stop(self, holder: ZombieHolder | None = None) -> None:
        """Kill this server and its pane programs (only those), and end the zombie helper."""
        for proc in self.descendants():
            with contextlib.suppress(psutil.Error):
                proc.kill()
        with contextlib.suppress(RuntimeError, ProcessLookupError, ValueError):
            os.kill(self.pid(), signal.SIGKILL)
        for helper in {holder, self.holder} - {None}:
            helper.stop()  # type: ignore[union-attr]

    def lines(self, fmt: str) -> list[str]:
        return self.cmd("list-panes", "-a", "-F", fmt).splitlines()


def _is_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def wait_until(condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait on a condition, not on luck."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture
def tmux_server() -> Iterator[PrivateServer]:
    """A private server on a short socket path (sun_path is limited to 108 bytes)."""
    if TMUX is None:
        pytest.skip("tmux is not installed")
    directory = Path(tempfile.mkdtemp(prefix="tg-", dir="/tmp"))
    server = PrivateServer(directory / "s")
    try:
        yield server
    finally:
        programs = server.descendants()
        with contextlib.suppress(Exception):
            pid = server.pid()
            os.kill(pid, signal.SIGKILL)
        for proc in programs:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        if server.holder is not None:
            server.holder.stop()
        _kill_left_on(server.socket)
        shutil.rmtree(directory, ignore_errors=True)


def _kill_left_on(socket: Path) -> None:
    """A server whose socket a test deleted cannot be asked its pid: found by the argv it
    was started with, which names this test's own unique socket path (only ours match)."""
    for proc in psutil.process_iter(["cmdline"]):
        argv = proc.info["cmdline"] or []
        if argv and argv[0].rsplit("/", 1)[-1] == "tmux" and str(socket) in argv:
            with contextlib.suppress(psutil.Error):
                proc.kill()
