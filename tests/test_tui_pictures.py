"""Layouts as pictures: every pane box where tmux's geometry puts it, scaled (within one
cell); the differences between live and checkpoint marked; the restore dialog's picture."""

from __future__ import annotations

import pytest

from guardian.view import WindowLayout
from tests.fake_service import LIVE, NEWEST, NOW, FakeService, pane, window
from tests.tui_helpers import until
from tui.app import GuardianApp
from tui.checkpoint_diff import pane_marks, pick
from tui.screens.restore import RestoreScreen
from tui.widgets.checkpoint_list import CheckpointList
from tui.widgets.layout_picture import LayoutPicture, PaneBox


def placed(picture: LayoutPicture, count: int) -> bool:
    """`count` boxes, each laid out inside the picture (a box just mounted is not yet)."""
    boxes = picture.boxes()
    area = picture.content_region
    return len(boxes) == count and all(area.contains_region(b.region) for b in boxes)


async def drawn(pilot, app: GuardianApp) -> None:  # type: ignore[no-untyped-def]
    await until(pilot, lambda: app.query_one(CheckpointList).option_count == 3)
    await until(pilot, lambda: placed(app.query_one("#saved", LayoutPicture), 3))


def assert_to_scale(picture: LayoutPicture, layout: WindowLayout) -> None:
    """Each box's region, against tmux's geometry scaled to the picture: within a cell."""
    area = picture.content_region
    sx, sy = area.width / layout.width, area.height / layout.height
    boxes = {box.pane.index: box for box in picture.boxes()}
    assert set(boxes) == {p.index for p in layout.panes}
    for pane_ in layout.panes:
        region = boxes[pane_.index].region
        expected = (pane_.left * sx, pane_.top * sy, pane_.width * sx, pane_.height * sy)
        got = (region.x - area.x, region.y - area.y, region.width, region.height)
        for what, e, g in zip(("left", "top", "width", "height"), expected, got, strict=True):
            assert abs(e - g) <= 1, f"pane {pane_.index} {what}: drawn {g}, tmux scaled {e:.2f}"


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (160, 50)])
async def test_every_pane_box_is_proportional_to_tmux_geometry(size: tuple[int, int]) -> None:
    app = GuardianApp(FakeService(4), clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=size) as pilot:
        await drawn(pilot, app)
        assert_to_scale(app.query_one("#live", LayoutPicture), LIVE[0])
        assert_to_scale(app.query_one("#saved", LayoutPicture), NEWEST[0])


async def test_an_uneven_layout_is_drawn_to_scale() -> None:
    """Four panes of odd sizes in a 211x57 window, a main-vertical with a stack."""
    layout = window(
        0,
        "odd",
        pane(0, 0, 0, 137, 57, "vim"),
        pane(1, 138, 0, 73, 18, "htop"),
        pane(2, 138, 19, 73, 19, "shell"),
        pane(3, 138, 39, 73, 18, "tail -f log"),
        active=True,
    )
    layout = WindowLayout(0, "odd", 211, 57, True, layout.panes)
    service = FakeService(4)
    detail = service.detail
    service.detail = lambda row: __import__("dataclasses").replace(detail(row), layout=(layout,))  # type: ignore[method-assign]
    app = GuardianApp(service, clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 40)) as pilot:
        await drawn(pilot, app)
        await until(pilot, lambda: placed(app.query_one("#live", LayoutPicture), 4))
        assert_to_scale(app.query_one("#live", LayoutPicture), layout)


async def test_differences_are_marked_in_both_pictures() -> None:
    """Live lost the notes pane (vim, 0.2): the checkpoint's box says it is gone."""
    app = GuardianApp(FakeService(4), clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(100, 30)) as pilot:
        await drawn(pilot, app)
        saved = {b.pane.index: b for b in app.query_one("#saved", LayoutPicture).boxes()}
        assert saved[2].mark == "gone" and saved[2].has_class("-gone")
        assert "− 0.2" in str(saved[2].border_title)
        assert saved[0].mark is None and saved[1].mark is None


async def test_w_shows_the_next_window_in_both_pictures() -> None:
    app = GuardianApp(FakeService(4), clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(100, 30)) as pilot:
        await drawn(pilot, app)
        await pilot.press("w", "w")  # window 2: live 1 dead pane, checkpoint 2 panes
        live = app.query_one("#live", LayoutPicture)
        await until(pilot, lambda: live.window is not None and live.window.index == 2)
        saved = app.query_one("#saved", LayoutPicture)
        await until(pilot, lambda: len(saved.boxes()) == 2)
        assert {b.pane.index: b.mark for b in saved.boxes()} == {0: "changed", 1: "gone"}
        assert "2:tests" in str(live.border_title)


async def test_the_restore_dialog_shows_the_picture_of_what_will_be_built() -> None:
    app = GuardianApp(FakeService(4), clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await drawn(pilot, app)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RestoreScreen))
        picture = app.screen.query_one(LayoutPicture)
        await until(pilot, lambda: placed(picture, 3))
        assert picture.region.height >= 5
        assert_to_scale(picture, NEWEST[0])
        programs = {b.pane.program for b in app.screen.query(PaneBox)}
        assert programs == {"claude", "shell", "vim notes.md"}


def test_pane_marks_new_gone_and_changed() -> None:
    live, saved = pane_marks(LIVE[2], NEWEST[2])
    assert live == {0: "changed"} and saved == {0: "changed", 1: "gone"}
    live, saved = pane_marks(NEWEST[0], LIVE[0])
    assert live == {2: "new"} and saved == {}
    assert pane_marks(LIVE[0], None) == ({}, {})
    assert pane_marks(LIVE[1], LIVE[1]) == ({}, {})


def test_pick_finds_the_window_or_falls_back_to_the_active_one() -> None:
    assert pick(LIVE, 2) is LIVE[2]
    assert pick(LIVE, 9) is LIVE[0]  # the active one
    assert pick((), 0) is None


async def test_the_picker_says_what_each_checkpoint_holds_and_what_changed() -> None:
    """Not only ages ("1m ago", "3m ago"): windows, panes, programs, and the difference
    from the one before (the unverified one between them is skipped)."""
    app = GuardianApp(FakeService(4), clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(100, 30)) as pilot:
        await drawn(pilot, app)
        picker = app.query_one(CheckpointList)
        newest = str(picker.get_option_at_index(0).prompt)
        assert "3 windows, 6 panes: claude, vim, python, pytest" in newest
        assert "+ pane 0.2 vim" in newest and "0.0 vim → claude" in newest
        oldest = str(picker.get_option_at_index(2).prompt)
        assert "3 windows, 3 panes: vim, python" in oldest and "→" not in oldest


async def test_the_health_strip_shows_the_night_of_faults_at_80x24() -> None:
    from tests.tui_helpers import screen_text
    from tui.widgets.health_strip import HealthStrip

    app = GuardianApp(FakeService(4), clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await drawn(pilot, app)
        strip = app.query_one(HealthStrip)
        await until(pilot, lambda: any(c != "unknown" for c in strip.cells))
        line = next(x for x in screen_text(app).splitlines() if "last 12h" in x)
        assert line.index("❄") < line.index("✖") < line.index("✗"), line
        assert line.rstrip().endswith("now")
