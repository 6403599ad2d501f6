"""Helpers of the UI tests: waiting on a condition, and the text of a running app's screen."""

from __future__ import annotations

import io
import time

from rich.console import Console
from textual.app import App


def screen_text(app: App[object]) -> str:
    """What the terminal shows now (dialogs over the screen beneath), as plain text."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    update = app.screen._compositor.render_update(  # as export_screenshot does
        full=True, screen_stack=app._background_screens
    )
    console.print(update)
    return console.export_text()


async def until(pilot, condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Wait on a condition of the UI (never on a sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("UI condition not met in time")
        await pilot.pause(0.05)
