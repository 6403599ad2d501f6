"""The install people actually get: a built wheel in a fresh venv outside the checkout.

Editable installs hide missing packages and data files (a hand-written package list once
left tui/screens and tui/widgets out, and the UI of every pip install died). Here nothing
of the checkout is importable: every module must come from the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PrivateServer

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("guardian", "recovery", "config", "tui")
pytestmark = pytest.mark.wheel


def clean_copy(into: Path) -> Path:
    """The checkout's files as git sees them (tracked, or new and not ignored), copied
    elsewhere: a stale build/ left by an earlier build must not fill the wheel's gaps."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    source = into / "source"
    for name in filter(None, listed.split("\0")):
        if not (ROOT / name).is_file():
            continue  # deleted in the working tree
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    return source


def build_wheel(into: Path) -> Path:
    source = clean_copy(into)
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(into),
            str(source),
        ],
        into,
        dict(os.environ),
    )
    (wheel,) = into.glob("tmux_guardian-*.whl")
    return wheel


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    done = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{argv[:3]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(the fresh venv's python, a directory outside the checkout to run it from)."""
    base = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    wheel = build_wheel(base)  # from a clean copy: a stale build/ must not fill gaps
    venv.EnvBuilder(with_pip=True).create(base / "venv")
    python = base / "venv" / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], base, env)
    yield python, base


def _checkout_modules() -> set[str]:
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def test_wheel_ships_every_module_and_the_styles(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        name[:-3].replace("/", ".").removesuffix(".__init__")
        for name in names
        if name.endswith(".py")
    }
    assert _checkout_modules() <= shipped, sorted(_checkout_modules() - shipped)
    assert "tui/app.tcss" in names


def test_every_module_imports_from_the_installed_wheel(installed: tuple[Path, Path]) -> None:
    python, outside = installed
    modules = sorted(_checkout_modules() - {"guardian.cli.__main__"})
    script = textwrap.dedent(
        f"""
        import importlib, sys
        for name in {modules!r}:
            module = importlib.import_module(name)
            assert "/venv/" in module.__file__, (name, module.__file__)
        print(len({modules!r}))
        """
    )
    out = _run([str(python), "-c", script], outside, {"PATH": os.environ["PATH"]})
    assert int(out.strip()) == len(modules) > 40


def test_every_help_runs_from_the_installed_script(installed: tuple[Path, Path]) -> None:
    python, outside = installed
    script = python.parent / "tmux-guardian"
    env = {"PATH": os.environ["PATH"], "HOME": str(outside)}
    top = _run([str(script), "--help"], outside, env)
    commands = [
        "tui", "status", "snapshot", "restore", "checkpoints", "verify", "watch", "history",
        "forget", "recover", "tmux-conf", "import", "export", "service",
    ]  # fmt: skip
    for command in commands:
        assert command in top
        out = _run([str(script), command, "--help"], outside, env)
        assert out.startswith("usage: tmux-guardian"), command
    version = _run([str(script), "--version"], outside, env)
    assert version.startswith("tmux-guardian ") and "unknown" not in version


def test_installed_ui_starts_against_a_real_server(
    installed: tuple[Path, Path], tmux_server: PrivateServer
) -> None:
    """The UI from the wheel, driven headless with Pilot, shows a real session."""
    python, outside = installed
    tmux_server.cmd("new-session", "-d", "-s", "wheelwork", "-x", "100", "-y", "30")
    script = textwrap.dedent(
        f"""
        import asyncio
        from pathlib import Path
        from config.settings import Settings
        from guardian.operations.engine import Engine
        from guardian.tmux.targets import ServerTarget
        from guardian.view import EngineService
        from tui.app import GuardianApp

        async def main():
            engine = Engine(Settings(), Path({str(outside / "state")!r}),
                            (ServerTarget.at_path({str(tmux_server.socket)!r}),))
            app = GuardianApp(EngineService(engine))
            async with app.run_test(size=(80, 24)) as pilot:
                for _ in range(100):
                    await pilot.pause(0.05)
                    if app.overview is not None:
                        break
                names = [row.name for row in app.overview.sessions]
                print(",".join(names))
                await pilot.press("s")
                saved = Path({str(outside / "state" / "checkpoints")!r})
                for _ in range(200):  # the snapshot runs in a worker thread
                    await pilot.pause(0.05)
                    if list(saved.rglob("*.json")):
                        break

        asyncio.run(main())
        """
    )
    env = {"PATH": os.environ["PATH"], "HOME": str(outside), "TERM": "xterm-256color"}
    out = _run([str(python), "-c", script], outside, env, timeout=120)
    assert out.strip().splitlines()[-1] == "wheelwork"
    assert list((outside / "state" / "checkpoints").rglob("*.json")), "s saved no checkpoint"


def _runs(t: PrivateServer, target: str, name: str) -> bool:
    """The pane at `target` runs `name` (its own process or a child), read from /proc."""
    import psutil

    out = t.cmd("display-message", "-p", "-t", target, "#{pane_pid} #{pane_dead}", check=False)
    parts = out.split()
    if len(parts) != 2 or parts[1] != "0":
        return False
    try:
        process = psutil.Process(int(parts[0]))
        return any(p.name() == name for p in (process, *process.children(recursive=True)))
    except psutil.Error:
        return False


def test_installed_watcher_hears_a_killed_program_and_a_crash(
    installed: tuple[Path, Path], tmux_server: PrivateServer
) -> None:
    """`tmux-guardian watch` from the wheel, as a person starts it: a killed program is
    running again and a kill -9 of the server is rebuilt, each well inside the 30 s poll
    interval (so by its events, not by polling)."""
    import signal
    import time

    from tests.conftest import wait_until

    python, outside = installed
    t = tmux_server
    (outside / "app.log").write_text("x\n")
    t.cmd("new-session", "-d", "-s", "svc", "-x", "100", "-y", "30", "-c", str(outside))
    t.cmd("split-window", "-t", "=svc:", "-c", str(outside), "tail", "-f", "app.log")
    run_dir = outside / "run"
    run_dir.mkdir(mode=0o700, exist_ok=True)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(outside),
        "XDG_RUNTIME_DIR": str(run_dir),
        "TMUX_GUARDIAN_KEY_DIR": os.environ["TMUX_GUARDIAN_KEY_DIR"],
        "SHELL": "/bin/sh",
    }
    state = outside / "watch-state"
    script = python.parent / "tmux-guardian"
    argv = [str(script), "-S", str(t.socket), "--state-dir", str(state), "watch"]
    watcher = subprocess.Popen(
        [*argv, "--interval", "30"], env=env, cwd=outside, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_until(lambda: list(state.rglob("*.json")), timeout=15)  # its first checkpoint
        pane = t.cmd("display-message", "-p", "-t", "=svc:0.1", "#{pane_pid}").strip()
        os.kill(int(pane), signal.SIGKILL)
        started = time.monotonic()
        wait_until(lambda: _runs(t, "=svc:0.1", "tail"), timeout=10)
        assert time.monotonic() - started < 5
        os.kill(t.pid(), signal.SIGKILL)
        started = time.monotonic()
        wait_until(lambda: _runs(t, "=svc:0.1", "tail"), timeout=15)
        assert time.monotonic() - started < 5
    finally:
        watcher.send_signal(signal.SIGTERM)
        try:
            out, _ = watcher.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            watcher.kill()
            out, _ = watcher.communicate()
    assert watcher.returncode == 0, out
    assert "Traceback" not in out, out
