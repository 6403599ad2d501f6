"""How values are cut to fit: at words, and directories from the middle (their tail is
what tells panes apart)."""

from __future__ import annotations

import pytest

from tui.formatting import fit, path_tail, shorten_path

HOME = "/home/ana"


@pytest.mark.parametrize(
    ("width", "expected"),
    [
        (40, "~/src/app/tests"),
        (15, "~/src/app/tests"),
        (14, "~/…/app/tests"),
        (12, "~/…/tests"),
        (6, "…tests"),
        (3, "…ts"),
        (1, "…"),
    ],
)
def test_a_home_path_is_shortened_from_the_middle(width: int, expected: str) -> None:
    shown = shorten_path("/home/ana/src/app/tests", width, HOME)
    assert shown == expected
    assert len(shown) <= width


def test_an_absolute_path_keeps_its_first_component_and_its_tail() -> None:
    assert shorten_path("/var/lib/postgres/data/base", 20) == "/var/…/data/base"
    assert shorten_path("/var/lib/postgres/data/base", 30) == "/var/lib/postgres/data/base"


def test_the_last_component_is_never_dropped_for_an_earlier_one() -> None:
    for width in range(2, 30):
        shown = shorten_path("/srv/www/a-very-long-project-name/src", width)
        assert len(shown) <= width
        assert shown.endswith("src") or len("src") + 1 > width


def test_home_is_matched_as_a_directory_not_a_prefix() -> None:
    assert shorten_path("/home/anabel/x", 40, HOME) == "/home/anabel/x"
    assert shorten_path("/home/ana", 40, HOME) == "~"


@pytest.mark.parametrize("width", range(1, 25))
def test_path_tail_fits_and_ends_with_the_directory(width: int) -> None:
    shown = path_tail("/home/ana/src/app/tests", width)
    assert len(shown) <= width
    assert shown.endswith("tests"[-(width - 1) :] if width > 1 else "…")


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("python -m http.server", 30, "python -m http.server"),
        ("python -m http.server", 12, "python -m…"),
        ("python -m http.server", 8, "python…"),
        ("window 2: 1 panes, checkpoint has 2", 20, "window 2: 1 panes…"),
        ("abcdefghijkl", 5, "abcd…"),  # one word wider than the room: cut, marked
        ("anything", 0, ""),
    ],
)
def test_fit_cuts_at_a_word(text: str, width: int, expected: str) -> None:
    assert fit(text, width) == expected


def test_fit_never_ends_inside_a_word_that_had_room_to_be_dropped() -> None:
    text = "restored 1 windows, 2 panes after the server crashed"
    words = set(text.replace(",", "").split())
    for width in range(9, len(text)):
        shown = fit(text, width)
        assert len(shown) <= width
        assert shown.endswith("…")
        assert all(w in words for w in shown[:-1].replace(",", "").split()), shown
