"""Who guards is told truthfully (issue 13): this UI, a watcher (with its pid), or another
UI, each with the server's socket; `watch` refused by a UI says how to hand over, and
`watch --take-over` really takes over. Real private tmux servers, HOME temporary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from guardian.tmux.targets import ServerTarget
from guardian.view import EngineService
from guardian.watch.locks import Holder, guard_holder, watcher_pid
from tests.conftest import PrivateServer
from tests.test_tui import SETTINGS, start_watcher
from tests.test_watcher import engine_for
from tests.tui_helpers import until
from tui.app import GuardianApp


def guard_line(app: GuardianApp) -> str:
    return str(app.query_one("#guard-line").content)


def watch(server: PrivateServer, *args: str) -> list[str]:
    cli = [sys.executable, "-m", "guardian.cli", "-S", str(server.socket), "watch"]
    return [*cli, "--interval", "0.2", "--no-recover", "--quiet", *args]


@pytest.fixture
def app(tmux_server: PrivateServer, hermetic_env: Path) -> GuardianApp:
    tmux_server.cmd("new-session", "-d", "-s", "work")
    return GuardianApp(EngineService(engine_for(tmux_server, hermetic_env / "state", SETTINGS)))


@pytest.mark.tmux
async def test_a_ui_that_guards_says_this_ui_guards_the_socket(
    tmux_server: PrivateServer, app: GuardianApp
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "guards" in guard_line(app))
        assert f"this UI guards {tmux_server.socket}" in guard_line(app)
        assert "watcher pid" not in guard_line(app)


@pytest.mark.tmux
async def test_a_watcher_that_guards_is_named_with_its_pid_and_the_socket(
    tmux_server: PrivateServer, app: GuardianApp, hermetic_env: Path
) -> None:
    watcher = start_watcher(tmux_server, hermetic_env / "state")
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: "guards" in guard_line(app))
            assert f"watcher pid {watcher.pid} guards {tmux_server.socket}" in guard_line(app)
            assert "this UI guards" not in guard_line(app)
    finally:
        watcher.terminate()
        watcher.wait(10)


@pytest.mark.tmux
async def test_a_second_ui_is_told_a_ui_guards_not_a_watcher(
    tmux_server: PrivateServer, app: GuardianApp, hermetic_env: Path
) -> None:
    """The bug: a UI that guards appeared to other UIs as "watcher pid N"."""
    first = EngineService(engine_for(tmux_server, hermetic_env / "state", SETTINGS))
    first.start()
    try:
        assert first.guarding
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: "guards" in guard_line(app))
            line = guard_line(app)
            assert f"a tmux-guardian UI (pid {os.getpid()}) guards {tmux_server.socket}" in line
            assert "watcher pid" not in line
            assert not app.service.guarding  # type: ignore[attr-defined]
    finally:
        first.stop()


@pytest.mark.tmux
def test_watch_refused_by_a_ui_names_it_and_says_how_to_hand_over(
    tmux_server: PrivateServer, hermetic_env: Path
) -> None:
    tmux_server.cmd("new-session", "-d", "-s", "w")
    ui = EngineService(engine_for(tmux_server, hermetic_env / "state", SETTINGS))
    ui.start()
    try:
        refused = subprocess.run(
            watch(tmux_server, "--once"), capture_output=True, text=True, timeout=20
        )
    finally:
        ui.stop()
    assert refused.returncode == 1
    assert f"a tmux-guardian UI (pid {os.getpid()}" in refused.stderr
    assert "quit it (q), or start the watcher with `watch --take-over`" in refused.stderr
    assert "another watcher" not in refused.stderr


@pytest.mark.tmux
async def test_watch_take_over_makes_the_ui_hand_its_guard_over(
    tmux_server: PrivateServer, app: GuardianApp, hermetic_env: Path
) -> None:
    """The watcher asks, the UI releases its locks, the watcher guards; the UI says so,
    and guards again once the watcher stops."""
    target = ServerTarget.at_path(str(tmux_server.socket))
    state = hermetic_env / "state"
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "this UI guards" in guard_line(app))
        assert guard_holder(state, target) == Holder(os.getpid(), "ui")
        watcher = subprocess.Popen(watch(tmux_server, "--take-over"))
        try:
            await until(pilot, lambda: f"watcher pid {watcher.pid} guards" in guard_line(app), 15)
            assert watcher.poll() is None  # it was not refused: it runs
            assert watcher_pid(state, target) == watcher.pid
            assert not app.service.guarding  # type: ignore[attr-defined]
        finally:
            watcher.terminate()
            watcher.wait(10)
        await until(pilot, lambda: "this UI guards" in guard_line(app), 15)
        assert app.service.guarding  # type: ignore[attr-defined]


@pytest.mark.tmux
def test_recover_while_another_ui_guards_names_that_ui_not_a_watcher(
    tmux_server: PrivateServer, hermetic_env: Path
) -> None:
    from guardian.view.rows import SessionRow

    tmux_server.cmd("new-session", "-d", "-s", "work")
    first = EngineService(engine_for(tmux_server, hermetic_env / "state", SETTINGS))
    first.start()
    try:
        second = EngineService(engine_for(tmux_server, hermetic_env / "state", SETTINGS))
        second.start()
        assert not second.guarding
        row = SessionRow(
            server=str(tmux_server.socket), socket_path=str(tmux_server.socket), name="work",
            health="healthy", evidence=(), attached=False, windows=1, panes=1,
        )  # fmt: skip
        said = second.recover(row)
    finally:
        first.stop()
    assert f"asked the tmux-guardian UI (pid {os.getpid()}) that guards it" in said
    assert "watcher pid" not in said
