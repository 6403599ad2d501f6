"""What a checkpoint holds and how it differs from the one before: pure, no tmux."""

from __future__ import annotations

import pytest

from guardian.view import WindowLayout
from tests.fake_service import LIVE, NEWEST, OLDEST, pane, window
from tui.checkpoint_diff import diff_layouts, holds, program_name

W0 = window(0, "editor", pane(0, 0, 0, 200, 50, "vim a.py"), active=True)


def one(*panes) -> tuple[WindowLayout, ...]:  # type: ignore[no-untyped-def]
    return (window(0, "editor", *panes, active=True),)


@pytest.mark.parametrize(
    ("program", "name"),
    [
        ("python -m http.server", "python"),
        ("/usr/bin/vim x", "vim"),
        ("shell", "shell"),
        ("", ""),
        ("claude --resume 8b34", "claude"),
    ],
)
def test_program_name(program: str, name: str) -> None:
    assert program_name(program) == name


def test_holds_counts_and_names_programs_once_in_order() -> None:
    assert holds(NEWEST) == "3 windows, 6 panes: claude, vim, python, pytest"
    assert holds(OLDEST) == "3 windows, 3 panes: vim, python"


def test_holds_says_one_in_the_singular_and_leaves_shells_out() -> None:
    assert holds(one(pane(0, 0, 0, 200, 50, "shell"))) == "1 window, 1 pane"
    assert holds(()) == "0 windows, 0 panes"
    assert holds(LIVE) == "3 windows, 4 panes: claude, python"  # dead is not a program


def test_the_same_layout_differs_in_nothing() -> None:
    assert diff_layouts(NEWEST, NEWEST) == []
    assert diff_layouts((), ()) == []


def test_a_resize_alone_is_not_news() -> None:
    wide = one(pane(0, 0, 0, 200, 50, "vim a.py"))
    narrow = one(pane(0, 0, 0, 120, 40, "vim a.py"))
    assert diff_layouts(wide, narrow) == []


def test_windows_added_and_removed() -> None:
    later = (*OLDEST, window(3, "logs", pane(0, 0, 0, 200, 50, "tail -f x")))
    assert diff_layouts(OLDEST, later) == ["+ window 3:logs"]
    assert diff_layouts(later, OLDEST) == ["− window 3:logs"]


def test_panes_added_and_removed_name_their_program() -> None:
    a = one(pane(0, 0, 0, 200, 50, "vim a.py"))
    b = one(pane(0, 0, 0, 100, 50, "vim a.py"), pane(1, 101, 0, 99, 50, "htop"))
    assert diff_layouts(a, b) == ["+ pane 0.1 htop"]
    assert diff_layouts(b, a) == ["− pane 0.1 htop"]


def test_a_program_changed_in_a_pane() -> None:
    a = one(pane(0, 0, 0, 200, 50, "vim a.py"))
    b = one(pane(0, 0, 0, 200, 50, "claude"))
    assert diff_layouts(a, b) == ["0.0 vim → claude"]


def test_a_pane_moved_to_another_directory() -> None:
    a = one(pane(0, 0, 0, 200, 50, "shell", "/a"))
    b = one(pane(0, 0, 0, 200, 50, "shell", "/b"))
    assert diff_layouts(a, b) == ["0.0 moved to /b"]


def test_a_window_renamed() -> None:
    a = (window(0, "editor", pane(0, 0, 0, 200, 50, "shell")),)
    b = (window(0, "code", pane(0, 0, 0, 200, 50, "shell")),)
    assert diff_layouts(a, b) == ["window 0 renamed editor → code"]


def test_the_fake_sessions_history_reads_as_a_person_would_say_it() -> None:
    assert diff_layouts(OLDEST, NEWEST) == [
        "+ pane 0.1 shell",
        "+ pane 0.2 vim",
        "0.0 vim → claude",
        "+ pane 2.1 shell",
        "2.0 shell → pytest",
    ]


def test_window_changes_come_before_pane_changes_and_in_index_order() -> None:
    a = (window(0, "a", pane(0, 0, 0, 200, 50, "x")), window(2, "c", pane(0, 0, 0, 200, 50, "y")))
    b = (window(1, "b", pane(0, 0, 0, 200, 50, "x")), window(2, "c", pane(0, 0, 0, 200, 50, "z")))
    assert diff_layouts(a, b) == ["+ window 1:b", "− window 0:a", "2.0 y → z"]


def test_hostile_names_stay_text() -> None:
    a = (window(0, "[b]x[/b]", pane(0, 0, 0, 200, 50, "$(rm -rf ~)")),)
    b = (window(0, "a;b", pane(0, 0, 0, 200, 50, "echo\x1b[31m")),)
    assert diff_layouts(a, b) == ["window 0 renamed [b]x[/b] → a;b", "0.0 $(rm → echo\x1b[31m"]
