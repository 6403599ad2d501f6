"""Keyboard first, and the mouse works: click a session, a checkpoint, a button. NO_COLOR
is respected, and nothing is said by colour alone."""

from __future__ import annotations

import re

import pytest

from tests.fake_service import NOW, FakeService
from tests.tui_helpers import screen_text, until
from tui.app import GuardianApp
from tui.screens.restore import RestoreScreen
from tui.widgets.checkpoint_list import CheckpointList
from tui.widgets.layout_picture import LayoutPicture
from tui.widgets.session_table import SessionTable


async def ready(pilot, app: GuardianApp) -> None:  # type: ignore[no-untyped-def]
    await until(pilot, lambda: app.query_one(SessionTable).row_count == 4)
    await until(pilot, lambda: app.query_one(CheckpointList).option_count == 3)
    await until(pilot, lambda: all(w.is_finished for w in app.workers if w.group == "details"))
    await pilot.pause(0.1)


async def test_clicking_a_session_selects_it_and_shows_its_details() -> None:
    app = GuardianApp(FakeService(4), clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        # border, header, then the rows: the third row is api-server
        await pilot.click(SessionTable, offset=(4, 4))
        table = app.query_one(SessionTable)
        await until(
            pilot, lambda: table.selected is not None and table.selected.name == "api-server"
        )
        await until(pilot, lambda: app.detail is not None and app.detail.row.name == "api-server")


async def test_clicking_a_checkpoint_draws_its_layout() -> None:
    app = GuardianApp(FakeService(4), clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot, app)
        picker = app.query_one(CheckpointList)
        await until(pilot, lambda: picker.highlighted == 0)
        area = picker.region
        rows = screen_text(app).splitlines()
        (y,) = [y for y in range(area.y, area.bottom) if "1d ago" in rows[y][area.x :]]
        await pilot.click(CheckpointList, offset=(4, y - area.y))
        await until(pilot, lambda: picker.highlighted == 2)
        saved = app.query_one("#saved", LayoutPicture)
        await until(pilot, lambda: [b.pane.program for b in saved.boxes()] == ["vim src/main.py"])


async def test_clicking_restore_in_the_dialog_restores() -> None:
    service = FakeService(4)
    app = GuardianApp(service, clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RestoreScreen))
        await pilot.click("#yes")
        await until(pilot, lambda: ("restore", "20261123T100000.000000Z-ab12") in service.calls)


async def test_no_color_is_respected_and_health_is_said_in_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = GuardianApp(FakeService(4), clock=lambda: NOW)  # type: ignore[arg-type]
    assert app.no_color
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        svg = app.export_screenshot()
        shown = screen_text(app)
    for word in ("● healthy", "▲ corrupted", "✖ crashed", "❄ frozen"):
        assert word in shown, shown
    # Textual's monochrome filter: every colour that reaches the terminal is a grey
    # (without NO_COLOR the badges are red, green, magenta: #f4005f, #98e024 ...)
    colours = set(re.findall(r"fill: #([0-9a-f]{6})", svg.lower()))
    coloured = {c for c in colours if not c[0:2] == c[2:4] == c[4:6]} - {"c5c8c6"}
    # (c5c8c6: the screenshot's own default foreground, not the app's)
    assert colours and not coloured, coloured


@pytest.mark.parametrize(
    ("setting", "theme", "ansi"),
    [("dark", "textual-dark", False), ("terminal-dark", "ansi-dark", True),
     ("terminal-light", "ansi-light", True)],
)  # fmt: skip
async def test_ui_theme_terminal_uses_the_terminals_own_palette(
    setting: str, theme: str, ansi: bool
) -> None:
    """config `ui_theme = "terminal-dark"`: Textual's ANSI theme, in the terminal's own
    colours (what a person set in their terminal is what they see)."""
    app = GuardianApp(FakeService(4), clock=lambda: NOW, theme=setting)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        assert app.theme == theme and app.ansi_color is ansi
        assert "● healthy" in screen_text(app)


def test_a_ui_theme_that_does_not_exist_names_the_key() -> None:
    from config.loading import ConfigError, settings_from_mapping

    with pytest.raises(ConfigError, match="ui_theme"):
        settings_from_mapping({"ui_theme": "neon"}, source="config.toml")
