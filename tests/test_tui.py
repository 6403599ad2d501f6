"""The UI: Pilot tests against real private tmux servers, and snapshots with fake data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.widgets import Input, OptionList, Static

from guardian.view import EngineService
from tests.conftest import PrivateServer
from tests.fake_service import NOW, FakeService
from tests.test_round_trip import read
from tests.test_watcher import FAST, engine_for
from tests.tui_helpers import until
from tui.app import GuardianApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.restore import RestoreScreen
from tui.widgets.checkpoint_list import CheckpointList
from tui.widgets.session_table import SessionTable

SETTINGS = FAST.model_copy(update={"interval": 0.2, "checkpoint_interval": 3600})


def cells(app: GuardianApp) -> dict[str, str]:
    table = app.query_one(SessionTable)
    return {row.name: str(table.get_row(key)[1]) for key, row in table.rows_by_key.items()}


async def select(pilot, app: GuardianApp, name: str) -> None:  # type: ignore[no-untyped-def]
    table = app.query_one(SessionTable)
    key = next(k for k, r in table.rows_by_key.items() if r.name == name)
    table.move_cursor(row=table.get_row_index(key))
    await until(pilot, lambda: app.query_one(CheckpointList).option_count > 0)


def start_watcher(server: PrivateServer, state_dir: Path) -> subprocess.Popen[bytes]:
    """A watcher without recovery, holding the lock before the UI starts."""
    from guardian.tmux.targets import ServerTarget
    from guardian.watch.locks import watcher_pid
    from tests.conftest import wait_until

    watcher = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "guardian.cli",
            "-S",
            str(server.socket),
            "watch",
            "--interval",
            "0.2",
            "--no-recover",
            "--quiet",
        ]
    )
    target = ServerTarget.at_path(str(server.socket))
    wait_until(lambda: watcher_pid(state_dir, target) == watcher.pid, timeout=10)
    return watcher


@pytest.fixture
def app_for(tmux_server: PrivateServer, hermetic_env: Path):  # type: ignore[no-untyped-def]
    def make() -> GuardianApp:
        engine = engine_for(tmux_server, hermetic_env / "state", SETTINGS)
        return GuardianApp(EngineService(engine))

    return make


@pytest.mark.tmux
async def test_health_after_a_real_fault_as_the_watcher_sees_it(
    tmux_server: PrivateServer, app_for, hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "alpha")
    t.cmd("new-session", "-d", "-s", "beta")
    watcher = start_watcher(t, hermetic_env / "state")
    try:
        app = app_for()
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: "watcher pid" in str(app.query_one("#guard-line").content))
            await until(pilot, lambda: cells(app) == {"alpha": "● healthy", "beta": "● healthy"})
            t.crash()
            await until(pilot, lambda: set(cells(app).values()) == {"✖ crashed"})
    finally:
        watcher.terminate()
        watcher.wait(10)


@pytest.mark.tmux
async def test_s_snapshots_the_selected_session(tmux_server: PrivateServer, app_for) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "work")
    app = app_for()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "work" in cells(app))
        await select(pilot, app, "work")
        before = app.query_one(CheckpointList).option_count
        t.cmd("rename-window", "-t", "work:0", "changed")
        await pilot.press("s")
        await until(pilot, lambda: app.query_one(CheckpointList).option_count == before + 1)
        assert app.query_one(CheckpointList).checkpoint_rows[0].reason == "tui"


@pytest.mark.tmux
async def test_r_and_confirm_restores_a_killed_session(tmux_server: PrivateServer, app_for) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "keep")
    t.cmd("new-session", "-d", "-s", "work", "-x", "100", "-y", "30")
    t.cmd("split-window", "-h", "-t", "work")
    # a session under construction (its builder, pid 1, alive) is internal: never shown
    t.cmd("new-session", "-d", "-s", "_tg-building-1-0badf00d")
    app = app_for()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "work" in cells(app))
        await select(pilot, app, "work")
        t.cmd("kill-session", "-t", "work")
        await until(pilot, lambda: cells(app).get("work") == "○ not running")
        assert set(cells(app)) == {"keep", "work"}
        await select(pilot, app, "work")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RestoreScreen))
        title = str(app.screen.query_one("#confirm-title").content)  # type: ignore[attr-defined]
        assert title.startswith("Restore 'work' from") and "_tg-" not in title
        body = str(app.screen.query_one("#restore-summary", Static).content)
        assert "session 'work'" in body and "2 panes" in body
        await pilot.press("y")
        await until(pilot, lambda: read(t).session("work") is not None)
        await until(pilot, lambda: cells(app).get("work") == "● healthy")
    assert read(t).session("work").pane_count == 2  # type: ignore[union-attr]


@pytest.mark.tmux
async def test_f_then_cancel_changes_nothing(
    tmux_server: PrivateServer, app_for, hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "work")
    app = app_for()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "work" in cells(app))
        await select(pilot, app, "work")
        state = hermetic_env / "state"
        before = {
            p: p.read_bytes()
            for p in state.rglob("*")
            if p.is_file() and "live" not in p.parts and p.suffix != ".log"
        }
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await pilot.pause(0.3)
        after = {p: p.read_bytes() for p in before}
        assert after == before and not (state / "shared.json").exists()
        assert "work" in cells(app)


@pytest.mark.tmux
async def test_ui_stays_responsive_while_the_server_is_stopped(
    tmux_server: PrivateServer, hermetic_env: Path
) -> None:
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "work")
    settings = SETTINGS.model_copy(update={"tmux_timeout": 2.0})
    engine = engine_for(t, hermetic_env / "state", settings)
    # A watcher without recovery holds the lock, so nothing thaws the server for us.
    watcher = start_watcher(t, hermetic_env / "state")
    pid = t.pid()
    app = GuardianApp(EngineService(engine))
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: "work" in cells(app))
            os.kill(pid, signal.SIGSTOP)
            await pilot.pause(0.5)  # a poll is now blocked on the stopped server
            started = time.monotonic()
            await pilot.press("slash", "w", "o")
            await until(pilot, lambda: app.query_one("#filter", Input).value == "wo", timeout=1.0)
            assert time.monotonic() - started < 1.0
            # never stale as live: the sessions and panes it shows are as of the last answer
            await until(pilot, lambda: "as of" in str(app.query_one(SessionTable).border_title))
            await pilot.press("enter", "R")
            # R says why it will not happen: this watcher runs with --no-recover
            await until(pilot, lambda: any("--no-recover" in n.message for n in app._notifications))
    finally:
        os.kill(pid, signal.SIGCONT)
        watcher.terminate()
        watcher.wait(10)


# -- with the fake service ---------------------------------------------------------------------


async def test_actions_reach_the_service() -> None:
    service = FakeService()
    app = GuardianApp(service, clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.query_one(SessionTable).row_count == 6)
        await until(pilot, lambda: app.query_one(CheckpointList).option_count == 3)
        await pilot.press("s", "S", "R", "p")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RestoreScreen))
        await pilot.press("y")
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: ("forget", "work") in service.calls)
        app.query_one(CheckpointList).highlighted = 1  # the one that does not verify
        await pilot.press("r")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, (ConfirmScreen, RestoreScreen))
        assert any("does not verify" in n.message for n in app._notifications)
    for call in [
        ("snapshot", "work"),
        ("snapshot", None),
        ("recover", "work"),
        ("pause", "work"),
        ("restore", "20261123T100000.000000Z-ab12"),
        ("forget", "work"),
    ]:
        assert call in service.calls
    assert service.calls.count(("restore", "20261123T100000.000000Z-ab12")) == 1


async def test_the_restore_dialog_lets_a_person_choose_how_each_pane_comes_back() -> None:
    """Per pane run / hold / shell, as Zellij offers: each change is planned again (so it
    shows what the rule lets happen) and the restore gets the choices."""
    service = FakeService()
    app = GuardianApp(service, clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.query_one(CheckpointList).option_count == 3)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RestoreScreen))
        panes = app.screen.query_one(OptionList)
        assert "claude: resumes conversation 8b34a1c2… (exact) [run]" in str(
            panes.get_option_at_index(0).prompt
        )
        assert panes.get_option_at_index(1).disabled  # a bare shell: nothing to choose
        await pilot.press("h")  # the highlighted pane: 0.0
        await until(pilot, lambda: "[hold]" in str(panes.get_option_at_index(0).prompt))
        await pilot.press("down", "r")  # 1.0 (the bare shell is skipped)
        await until(pilot, lambda: "[run]" in str(panes.get_option_at_index(2).prompt))
        await pilot.press("y")
        await until(pilot, lambda: ("restore", "20261123T100000.000000Z-ab12") in service.calls)
    assert service.choices[-1] == {"0.0": "hold", "1.0": "run"}


async def test_filter_narrows_the_table() -> None:
    app = GuardianApp(FakeService(), clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.query_one(SessionTable).row_count == 6)
        await pilot.press("slash", "l", "o")
        await until(pilot, lambda: set(cells(app)) == {"logs"})
        await pilot.press("escape")
        await until(pilot, lambda: app.query_one(SessionTable).row_count == 6)


def test_tui_is_only_loaded_on_the_ui_path() -> None:
    code = "import sys, guardian.cli, guardian.view; assert 'textual' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_tmux_conf_binds_a_popup_and_a_snapshot_key(guardian) -> None:  # type: ignore[no-untyped-def]
    out = guardian("tmux-conf").out
    assert "display-popup -E" in out and "snapshot --json" in out
    assert out.count("bind-key") == 2
    explicit = guardian("-S", "/tmp/my sock", "tmux-conf").out
    assert '-S "/tmp/my sock"' in explicit  # double quotes: inside the line's single quotes


def screen_rows(svg: str) -> list[str]:
    """The text of a screenshot, row by row (Textual's SVG places each run of text)."""
    import html
    import re

    rows: dict[float, list[tuple[float, str]]] = {}
    for x, y, text in re.findall(r'<text[^>]* x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        rows.setdefault(float(y), []).append((float(x), html.unescape(re.sub("<[^>]+>", "", text))))
    lines = []
    for y in sorted(rows):
        line = ""
        for x, text in sorted(rows[y]):
            line = line.ljust(round(x / 12.2)) + text
        lines.append(line.replace("\xa0", " "))
    return lines


async def test_the_footer_fits_80_columns_and_question_mark_lists_every_key() -> None:
    """At 80x24 (a tmux popup) no key is cut ('q Qu'); `?` names every key, the checkpoint
    picker's Tab included, and the restore dialog's."""
    from tui.screens.help import HelpScreen

    app = GuardianApp(FakeService(), clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.query_one(SessionTable).row_count == 6)
        await until(pilot, lambda: "Quit" in screen_rows(app.export_screenshot())[-1])
        footer = screen_rows(app.export_screenshot())[-1]
        assert "q Quit" in footer and "? Help" in footer, footer
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = "\n".join(screen_rows(app.export_screenshot()))
        assert "Tab" in text and "checkpoint picker" in text
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen))
    # every key of the app and of the restore dialog is on the help screen
    from tui.screens.help import IN_RESTORE, KEYS
    from tui.screens.restore import RestoreScreen

    listed = " ".join(key for key, _ in (*KEYS, *IN_RESTORE)).split()
    for screen in (GuardianApp, RestoreScreen):
        for binding in screen.BINDINGS:
            assert isinstance(binding, Binding)
            shown = binding.key_display or binding.key.split(",")[0]
            assert shown in listed or shown in ("escape",), shown


def test_pause_resume_reset_and_forget_are_not_shown_as_recoveries(hermetic_env: Path) -> None:
    """The sessions table's "last recovery" names the last repair or restore; a person's
    pause, resume, reset or forget is journaled too, but recovers nothing."""
    from config.settings import Settings
    from guardian.operations.engine import Engine
    from guardian.operations.sessions import journal_person
    from guardian.tmux.targets import ServerTarget
    from guardian.view.overview import last_recoveries
    from recovery.journal import Journal

    state = hermetic_env / "state"
    engine = Engine(Settings(), state, (ServerTarget.at_path("/tmp/x"),))
    Journal(state).record(
        "/tmp/x", "work", "action", action="respawn pane %3", outcome="repaired: back"
    )
    for what in ("pause", "resume", "reset", "forget"):
        journal_person(engine, "/tmp/x", "work", what, "ok")
    assert last_recoveries(engine)[("/tmp/x", "work")].endswith(" repaired")
    journal_person(engine, "/tmp/x", "work", "restore from X", "failed: no")
    assert last_recoveries(engine)[("/tmp/x", "work")].endswith(" failed")
