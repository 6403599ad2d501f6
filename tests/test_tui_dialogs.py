"""A burst of keys never opens two dialogs, and dialogs name sessions as the person does."""

from __future__ import annotations

from textual import events
from textual.screen import ModalScreen
from textual.widgets import Label

from tests.fake_service import NOW, FakeService
from tests.tui_helpers import until
from tui.app import GuardianApp
from tui.screens.restore import RestoreScreen
from tui.widgets.checkpoint_list import CheckpointList


def dialogs(app: GuardianApp) -> list[ModalScreen[object]]:
    return [s for s in app.screen_stack if isinstance(s, ModalScreen)]


async def ready(pilot, app: GuardianApp) -> None:  # type: ignore[no-untyped-def]
    await until(pilot, lambda: app.query_one(CheckpointList).option_count == 3)


async def test_rr_typed_fast_opens_one_restore_dialog() -> None:
    """The plan takes a moment (it reads and verifies the checkpoint): the second `r`
    came before the first dialog was up and opened a second one."""
    service = FakeService(4)
    service.slow = 0.3
    app = GuardianApp(service, clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.press("r", "r")
        await until(pilot, lambda: isinstance(app.screen, RestoreScreen))
        await pilot.pause(0.8)  # a second plan, had one started, would be done by now
        assert len(dialogs(app)) == 1
        assert service.calls.count(("preview", "20261123T100000.000000Z-ab12")) == 1


async def test_a_pasted_slash_r_work_enter_opens_at_most_one_dialog() -> None:
    """A paste arrives as one burst: every key is queued before the first is handled
    (pilot.press would wait for each), as a terminal without bracketed paste sends it."""
    service = FakeService(4)
    service.slow = 0.3
    app = GuardianApp(service, clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        for char in "/rwork\r":
            key = {"/": "slash", "\r": "enter"}.get(char, char)
            app.post_message(events.Key(key, char))
        await pilot.pause(0.8)
        assert len(dialogs(app)) <= 1


async def test_the_restore_dialog_names_the_session_as_the_person_does() -> None:
    service = FakeService(4)
    app = GuardianApp(service, clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RestoreScreen))
        title = str(app.screen.query_one("#confirm-title", Label).content)
        assert title.startswith("Restore 'work' from checkpoint"), title
