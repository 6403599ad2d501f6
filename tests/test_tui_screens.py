"""The UI at the sizes people use: 80x24 (a tmux popup) first, then 100x30 and 160x50,
with 1, 4 and 30 sessions. Fake service, fixed data, fixed clock: snapshots are exact."""

from __future__ import annotations

import time

import pytest

from tests.fake_service import NOW, FakeService
from tests.tui_helpers import screen_text, until
from tui.app import GuardianApp
from tui.widgets.checkpoint_list import CheckpointList
from tui.widgets.session_table import SessionTable


async def settled(pilot, app: GuardianApp, sessions: int) -> None:  # type: ignore[no-untyped-def]
    """Every session listed and the selected one's details shown."""
    await until(pilot, lambda: app.query_one(SessionTable).row_count == sessions)
    await until(pilot, lambda: app.query_one(CheckpointList).option_count > 0)
    await until(pilot, lambda: all(w.is_finished for w in app.workers if w.group == "details"))
    await pilot.pause()


def app_with(sessions: int) -> GuardianApp:
    return GuardianApp(FakeService(sessions), clock=lambda: NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize("sessions", [1, 4, 30])
@pytest.mark.parametrize("size", [(80, 24), (100, 30), (160, 50)])
def test_main_screen_snapshot(snap_compare, size: tuple[int, int], sessions: int) -> None:  # type: ignore[no-untyped-def]
    app = app_with(sessions)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settled(pilot, app, sessions)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_four_sessions_are_all_visible_at_80x24() -> None:
    """Issue 13: at 80x24 only two of four sessions showed (a scrollbar the only hint)."""
    app = app_with(4)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot, app, 4)
        table = app.query_one(SessionTable)
        assert table.max_scroll_y == 0, "the sessions table scrolls: some are hidden"
        shown = screen_text(app)
        for name in ("work", "build", "api-server", "logs"):
            assert name in shown, f"{name} is not on the screen"


async def test_the_sessions_table_grows_to_the_screen_with_many_sessions() -> None:
    """30 sessions at 80x24: the table takes most of the screen (not 2 rows), and the rest
    of the screen still shows the selected session."""
    app = app_with(30)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot, app, 30)
        table = app.query_one(SessionTable)
        visible_rows = table.scrollable_content_region.height - 1  # its header
        assert visible_rows >= 10, visible_rows
        assert app.query_one(CheckpointList).region.height >= 5


async def test_empty_panels_take_no_room() -> None:
    """A session with no history: the history panel collapses and the room goes to the
    others; no problem line is shown when nothing is wrong."""
    service = FakeService(4)
    service.history = lambda session=None, limit=200: []  # type: ignore[method-assign]
    app = GuardianApp(service, clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot, app, 4)
        await pilot.pause(0.1)
        assert app.query_one("#history").region.height == 0
        assert app.query_one("#problems").region.height == 0
        assert "recovery history" not in screen_text(app)


async def test_a_long_guard_line_wraps_at_words_instead_of_being_cut() -> None:
    service = FakeService(4)
    long = (
        "watcher pid 1234 guards /tmp/tmux-1000/default and /tmp/tmux-1000/other-server, "
        "last poll 0.4s ago"
    )
    poll = service.poll

    async def polled():  # type: ignore[no-untyped-def]
        overview = await poll()
        from dataclasses import replace

        return replace(overview, guard=long)

    service.poll = polled  # type: ignore[method-assign]
    app = GuardianApp(service, clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot, app, 4)
        top = " ".join(line.strip() for line in screen_text(app).splitlines()[:2])
        assert "last poll 0.4s ago" in top, top


HOSTILE = ("[bold red]x[/]", "a;b $(rm -rf ~)", "q'\"`", "esc\x1b[31mred", "ünï 𝔘 日本")


async def test_hostile_session_names_are_shown_as_written() -> None:
    """Markup in a name is text ([bold red] shown, not applied); `[/]` does not break the
    render; an escape sequence is shown as ^[ and never reaches the terminal."""
    from dataclasses import replace

    service = FakeService(5)
    service.sessions = [replace(r, name=n) for r, n in zip(service.sessions, HOSTILE, strict=True)]
    app = GuardianApp(service, clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot, app, 5)
        shown = screen_text(app)
        assert "[bold red]x[/]" in shown
        assert "a;b $(rm -rf ~)" in shown
        assert "q'\"`" in shown
        assert "esc^[[31mred" in shown and "\x1b" not in shown
        assert "ünï 𝔘 日本" in shown


async def test_a_server_that_does_not_answer_is_shown_as_of_when_it_last_did() -> None:
    """Issue 13: while a server was frozen the panes panel kept showing the old panes as
    "same as its newest checkpoint": stale data shown as live. Every panel showing the
    server's state now says "as of HH:MM:SS" and why."""
    service = FakeService(4)
    service.frozen = True
    app = GuardianApp(service, clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot, app, 4)
        shown = screen_text(app)
        then = time.strftime("%H:%M:%S", time.localtime(NOW - 75))
        assert f"sessions · default as of {then}" in shown
        assert f"─ as of {then} ─╯╰" in shown  # under the picture of its window
        assert "live 0:editor" not in shown  # the picture is not called live
        assert f"live as of {then}" in shown  # the checkpoint picker compares with that
        assert "does not answer" in shown
        assert "same as its newest checkpoint" not in shown
        assert "vs checkpoint" not in shown


async def test_R_does_what_the_service_says_and_polls_again_at_once() -> None:
    """`R` said "recovers it at the next poll" and nothing happened: now the service's
    answer is shown, and when this window recovers it polls now (not in an hour)."""
    service = FakeService(4)
    service.frozen = True
    app = GuardianApp(service, clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot, app, 4)
        polls = service.polls
        await pilot.press("R")
        await until(pilot, lambda: service.polls > polls)  # interval is an hour
        assert ("recover", "work") in service.calls
        assert any("recovering 'work' now" in n.message for n in app._notifications)


async def test_R_says_why_not_when_nobody_will_recover() -> None:
    from guardian.view import ServiceError

    service = FakeService(4)

    def refuse(row):  # type: ignore[no-untyped-def]
        raise ServiceError("watcher pid 1234 runs with --no-recover: it will not recover 'work'")

    service.recover = refuse  # type: ignore[method-assign]
    app = GuardianApp(service, clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot, app, 4)
        await pilot.press("R")
        await until(pilot, lambda: any("--no-recover" in n.message for n in app._notifications))
        (said,) = [n for n in app._notifications if "--no-recover" in n.message]
        assert said.severity == "error" and said.message.startswith("recover failed")
