"""A session's health over time from its journal records: pure, no tmux."""

from __future__ import annotations

from guardian.view import HistoryRow
from tests.fake_service import NOW, night
from tui.health_strip import GLYPHS, health_strip, is_recovery

H = 3600.0


def verdict(ago: float, health: str) -> HistoryRow:
    return HistoryRow(NOW - ago, "work", health, "", None, "verdict", health)


def action(ago: float, ok: bool, what: str = "rebuild") -> HistoryRow:
    out = "ok: done" if ok else "failed: no"
    return HistoryRow(NOW - ago, "work", what, out, ok, "action", None)


def test_nothing_known_is_unknown_not_healthy() -> None:
    assert health_strip([], NOW, 12 * H, 4) == ["unknown"] * 4


def test_the_health_before_the_window_carries_in() -> None:
    assert health_strip([verdict(20 * H, "healthy")], NOW, 12 * H, 3) == ["healthy"] * 3


def test_a_crash_and_its_rebuild_in_one_slice_show_the_crash_as_recovered() -> None:
    rows = [verdict(20 * H, "healthy"), verdict(6.5 * H, "crashed"), action(6.4 * H, True),
            verdict(6.4 * H - 1, "healthy")]  # fmt: skip
    assert health_strip(rows, NOW, 12 * H, 4) == [
        "healthy",
        "crashed+recovered",
        "healthy",
        "healthy",
    ]


def test_a_failure_left_unrepaired_lasts_until_the_next_verdict() -> None:
    rows = [verdict(20 * H, "healthy"), verdict(7 * H, "frozen")]
    assert health_strip(rows, NOW, 12 * H, 4) == ["healthy", "frozen", "frozen", "frozen"]


def test_a_failed_recovery_says_most() -> None:
    rows = [verdict(20 * H, "healthy"), verdict(1 * H, "corrupted"), action(0.9 * H, False)]
    assert health_strip(rows, NOW, 12 * H, 4)[-1] == "failed"


def test_a_persons_pause_or_forget_is_not_a_recovery() -> None:
    for what in ("pause", "resume", "reset", "forget"):
        assert not is_recovery(action(1 * H, True, f"{what} (by a person)"))
    assert is_recovery(action(1 * H, True, "restore from X (by a person)"))
    rows = [verdict(20 * H, "healthy"), action(1 * H, True, "pause (by a person)")]
    assert health_strip(rows, NOW, 12 * H, 4) == ["healthy"] * 4


def test_records_after_now_and_other_kinds_are_ignored() -> None:
    note = HistoryRow(NOW - H, "work", "note", "closed by a person", None, "note", None)
    rows = [verdict(20 * H, "healthy"), note, verdict(-H, "crashed")]
    assert health_strip(rows, NOW, 12 * H, 2) == ["healthy", "healthy"]


def test_the_night_of_faults_shows_every_kind_in_order() -> None:
    strip = health_strip(night(), NOW, 12 * H, 48)
    kinds = [s.split("+")[0] for s in strip if s not in ("healthy", "unknown")]
    assert kinds[:3] == ["frozen", "crashed", "failed"]
    assert "corrupted" in kinds
    assert strip[0] == "unknown" and strip[-1] == "healthy"


def test_every_state_has_its_own_glyph() -> None:
    glyphs = [glyph for glyph, _ in GLYPHS.values()]
    assert len(set(glyphs)) == len(glyphs)


def test_zero_cells() -> None:
    assert health_strip(night(), NOW, 12 * H, 0) == []
