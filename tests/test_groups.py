"""Session groups without tmux: reading a group from tmux's answer, which member of a
group is built and which ones join it, how a join is planned and shown, a group in the
checkpoint digest, and resurrect's `grouped_session` lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from guardian.operations.restore_groups import plan_joins
from guardian.tmux.reading import (
    FIELD_SEP,
    PANE_ONLY_FIELDS,
    RECORD_END,
    WINDOW_FIELDS,
    build_server_state,
    parse_pane_records,
)
from recovery.checkpoint import Checkpoint
from recovery.groups import (
    GroupMember,
    Joining,
    JoinPlan,
    LiveSession,
    arrange_groups,
    first_member,
    live_peer,
)
from recovery.importers import parse_resurrect
from recovery.importers.common import ImportError_
from recovery.models import ServerInfo, SessionState
from recovery.structure import structure_key
from tests.factories import checkpoint, session

CHECKPOINTS = Path(__file__).parent / "fixtures" / "checkpoints"

# -- reading a group from tmux's answer ------------------------------------------------------


def _window(session_id: str, name: str, group: str, window_id: str, active: str) -> str:
    values = {
        "pid": "100",
        "version": "3.3a",
        "session_id": session_id,
        "session_created": "1",
        "session_attached": "0",
        "window_id": window_id,
        "window_index": window_id[1:],
        "window_width": "80",
        "window_height": "24",
        "window_active": active,
        "window_zoomed_flag": "0",
        "automatic-rename": "1",
        "window_layout": "b25f,80x24,0,0,0",
        "session_name": name,
        "session_group": group,
        "window_name": "w",
    }
    fields = [values[f] for f in WINDOW_FIELDS]
    return "W" + FIELD_SEP + FIELD_SEP.join(fields) + FIELD_SEP + RECORD_END + "\n"


def _pane(session_id: str, window_id: str, pane_id: str) -> str:
    values = dict.fromkeys(PANE_ONLY_FIELDS, "0")
    values.update(
        {"session_id": session_id, "window_id": window_id, "pane_id": pane_id, "pane_pid": ""}
    )
    values.update({"pane_title": "t", "pane_start_command": "", "pane_active": "1"})
    fields = [values[f] for f in PANE_ONLY_FIELDS]
    return "P" + FIELD_SEP + FIELD_SEP.join(fields) + FIELD_SEP + RECORD_END + "\n"


def grouped_answer() -> str:
    """What tmux lists for `view` grouped with `work` (windows @0 @1, one pane each), and
    `solo` alone: each group window once per member, with that member's active window."""
    windows = (
        _window("$1", "view", "work", "@0", "1")
        + _window("$1", "view", "work", "@1", "0")
        + _window("$0", "work", "work", "@0", "0")
        + _window("$0", "work", "work", "@1", "1")
        + _window("$2", "solo", "", "@2", "1")
    )
    panes = "".join(_pane(s, w, "%" + w[1:]) for s in ("$1", "$0") for w in ("@0", "@1")) + _pane(
        "$2", "@2", "%2"
    )
    return windows + panes


def test_each_member_of_a_group_is_read_with_its_own_panes_and_active_window() -> None:
    rows, unreadable = parse_pane_records(grouped_answer())
    assert unreadable == []
    state = build_server_state("/s", rows, probe_processes=False, read_at=0.0)
    by_name = {s.name: s for s in state.sessions}
    assert set(by_name) == {"view", "work", "solo"}
    for name in ("view", "work"):
        assert [len(w.panes) for w in by_name[name].windows] == [1, 1], name
        assert by_name[name].group == "work"
    assert [w.active for w in by_name["view"].windows] == [True, False]
    assert [w.active for w in by_name["work"].windows] == [False, True]
    assert by_name["solo"].group == ""


def test_a_grouped_pane_is_one_model_in_every_member() -> None:
    rows, _ = parse_pane_records(grouped_answer())
    state = build_server_state("/s", rows, probe_processes=False, read_at=0.0)
    view, work = state.session("view"), state.session("work")
    assert view is not None and work is not None
    assert view.windows[0].panes[0] is work.windows[0].panes[0]


def test_the_session_of_every_pane_record_is_asked_of_tmux() -> None:
    assert PANE_ONLY_FIELDS[:2] == ("session_id", "window_id")
    assert "session_group" in WINDOW_FIELDS


# -- which member is built and which ones join --------------------------------------------


def members(*pairs: tuple[str, str]) -> list[GroupMember]:
    return [GroupMember(name, group) for name, group in pairs]


def live(*rows: tuple[str, str, str]) -> list[LiveSession]:
    return [LiveSession(*row) for row in rows]


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ((), {}),
        ((("a", ""),), {}),
        ((("a", ""), ("b", "")), {}),
        ((("work", "work"),), {}),  # alone in its group: built in full
        ((("view", "work"),), {}),  # its peer is not restored and not live: built in full
        ((("work", "work"), ("view", "work")), {"view": "work"}),
        ((("view", "work"), ("work", "work")), {"view": "work"}),  # named after the group
        ((("v1", "work"), ("v2", "work")), {"v2": "v1"}),  # else the first in order
        ((("v2", "work"), ("v1", "work")), {"v1": "v2"}),
        ((("v1", "work"), ("v2", "work"), ("v3", "work")), {"v2": "v1", "v3": "v1"}),
        ((("v1", "work"), ("work", "work"), ("v3", "work")), {"v1": "work", "v3": "work"}),
        ((("a", "g1"), ("b", "g2"), ("c", "g1"), ("d", "g2")), {"c": "a", "d": "b"}),
        ((("a", "g1"), ("b", ""), ("c", "g1")), {"c": "a"}),
        ((("g1", "g1"), ("x", "g2")), {}),
    ],
)
def test_the_first_member_of_a_group_is_built_and_the_others_join_it(
    pairs: tuple[tuple[str, str], ...], expected: dict[str, str]
) -> None:
    joins = arrange_groups(members(*pairs), [])
    assert {name: j.peer for name, j in joins.items()} == expected
    assert all(j.peer_id is None for j in joins.values())
    assert all(j.member == name for name, j in joins.items())


@pytest.mark.parametrize(
    ("alive", "expected"),
    [
        ((), None),
        ((("$1", "other", ""),), None),
        ((("$1", "other", "x"),), None),
        ((("$1", "work", "work"),), "$1"),
        ((("$1", "v2", "work"),), "$1"),  # any live member of the group
        ((("$1", "v2", "work"), ("$2", "work", "work")), "$2"),  # the one named after it first
        ((("$1", "v2", "work"), ("$2", "v3", "work")), "$1"),
        ((("$1", "work", ""),), "$1"),  # the group's first member built alone
        ((("$1", "work", "other"),), None),  # named so, but in another group
        ((("$1", "work", ""), ("$2", "v2", "work")), "$2"),  # a real member wins
        ((("$1", "workshop", ""),), None),  # never a prefix of the name
    ],
)
def test_a_live_peer_is_a_member_of_the_group_or_its_namesake_alone(
    alive: tuple[tuple[str, str, str], ...], expected: str | None
) -> None:
    peer = live_peer("work", live(*alive))
    assert (peer.session_id if peer else None) == expected


def test_every_member_joins_a_live_peer_none_is_built() -> None:
    joins = arrange_groups(
        members(("work", "work"), ("view", "work"), ("x", "")), live(("$7", "v9", "work"))
    )
    assert joins == {
        "work": Joining("work", "v9", "$7"),
        "view": Joining("view", "v9", "$7"),
    }


def test_a_live_peer_of_another_group_is_not_joined() -> None:
    joins = arrange_groups(members(("view", "work")), live(("$7", "v9", "play")))
    assert joins == {}


@pytest.mark.parametrize(
    ("names", "first"),
    [(("a", "b"), "a"), (("b", "a"), "b"), (("a", "g"), "g"), (("g", "a"), "g")],
)
def test_the_first_member_prefers_the_group_s_name(names: tuple[str, str], first: str) -> None:
    assert first_member([GroupMember(n, "g") for n in names]).name == first


# -- a join as planned and shown ---------------------------------------------------------


def grouped(name: str, group: str, active: int = 0) -> SessionState:
    base = session(name)
    window = base.windows[0]
    windows = tuple(
        window.model_copy(update={"index": i, "window_id": f"@{i}", "active": i == active})
        for i in range(3)
    )
    return base.model_copy(update={"group": group, "windows": windows})


def test_a_join_is_described_as_sharing_its_group_s_windows() -> None:
    plan = JoinPlan("view", "CP1", Joining("view", "main"), 2)
    assert plan.describe() == [
        "session 'view' from checkpoint CP1: joins group of 'main' (shares its windows), "
        "window 2 active"
    ]
    plain = JoinPlan("view", "CP1", Joining("view", "main"), None)
    assert plain.describe()[0].endswith("joins group of 'main' (shares its windows)")


def test_a_join_plan_carries_its_own_active_window_and_what_it_replaces() -> None:
    work, view = checkpoint(grouped("work", "work", 2)), checkpoint(grouped("view", "work", 1))
    plans = plan_joins([("work", work, None), ("view", view, "$9")], [])
    assert list(plans) == ["view"]
    assert plans["view"].active_window == 1 and plans["view"].replaces == "$9"
    assert plans["view"].checkpoint_id == view.id
    assert plans["view"].joining == Joining("view", "work")


def test_a_copy_restored_beside_it_is_built_in_full() -> None:
    work, view = checkpoint(grouped("work", "work")), checkpoint(grouped("view", "work"))
    assert plan_joins([("work", work, None), ("copy", view, None)], [], grouped=False) == {}


def test_a_session_about_to_be_replaced_is_no_peer() -> None:
    view = checkpoint(grouped("view", "work"))
    doomed = grouped("work", "work").model_copy(update={"session_id": "$4"})
    assert plan_joins([("view", view, None)], [doomed]) != {}
    assert plan_joins([("view", view, "$4")], [doomed]) == {}


def test_a_half_built_session_is_no_peer() -> None:
    view = checkpoint(grouped("view", "work"))
    half = grouped("_tg-building-1-ab", "work").model_copy(update={"session_id": "$4"})
    assert plan_joins([("view", view, None)], [half]) == {}


def test_a_live_peer_is_joined_by_its_id() -> None:
    view = checkpoint(grouped("view", "work"))
    peer = grouped("work", "work").model_copy(update={"session_id": "$4"})
    assert plan_joins([("view", view, None)], [peer])["view"].joining.peer_id == "$4"


# -- the checkpoint digest -------------------------------------------------------------------


def test_joining_a_group_changes_the_structure() -> None:
    alone = session("view")
    assert structure_key(alone) != structure_key(alone.model_copy(update={"group": "work"}))
    assert structure_key(grouped("v", "a")) != structure_key(grouped("v", "b"))


def test_an_ungrouped_session_s_digest_is_what_schema_3_wrote() -> None:
    """No new checkpoint of every session just for the upgrade."""
    saved = json.loads((CHECKPOINTS / "v3-main-2026-11-30.json").read_text())["payload"]
    written = Checkpoint.model_validate(saved)
    assert structure_key(written.session) == written.structure


# -- resurrect's grouped_session lines -----------------------------------------------------

PANE = "pane\twork\t{w}\t{a}\t:{f}\t0\tt\t:/tmp\t1\tbash\t:"
WINDOW = "window\twork\t{w}\t:w{w}\t{a}\t:{f}\tb25d,80x24,0,0,0\ton"


def resurrect_text(*extra: str) -> str:
    lines = [
        PANE.format(w=0, a=0, f=""),
        PANE.format(w=1, a=1, f="*"),
        WINDOW.format(w=0, a=0, f=""),
        WINDOW.format(w=1, a=1, f="*"),
        *extra,
        "state\twork\t",
    ]
    return "\n".join(lines) + "\n"


def imported(text: str) -> dict[str, SessionState]:
    found = parse_resurrect(text, ServerInfo(socket_path="/x"), datetime.now(UTC))
    return {c.session.name: c.session for c in found}


def test_a_grouped_session_gets_its_original_s_windows_and_its_own_active_one() -> None:
    sessions = imported(resurrect_text("grouped_session\tview\twork\t:1\t:0"))
    work, view = sessions["work"], sessions["view"]
    assert (work.group, view.group) == ("work", "work")
    assert [w.index for w in view.windows] == [w.index for w in work.windows] == [0, 1]
    assert [w.active for w in view.windows] == [True, False]
    assert [w.active for w in work.windows] == [False, True]
    assert [len(w.panes) for w in view.windows] == [1, 1]


def test_several_grouped_sessions_share_one_original() -> None:
    sessions = imported(
        resurrect_text("grouped_session\tv1\twork\t:\t:1", "grouped_session\tv2\twork\t:\t:0")
    )
    assert {s.name: s.group for s in sessions.values()} == {"work": "work", "v1": "work",
                                                             "v2": "work"}  # fmt: skip
    assert [w.active for w in sessions["v1"].windows] == [False, True]


@pytest.mark.parametrize("active", [":", ":7"])
def test_an_unknown_or_missing_active_window_keeps_the_original_s(active: str) -> None:
    sessions = imported(resurrect_text(f"grouped_session\tview\twork\t:\t{active}"))
    assert [w.active for w in sessions["view"].windows] == [False, True]


def test_a_file_without_grouped_sessions_imports_none_grouped() -> None:
    assert imported(resurrect_text())["work"].group == ""


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("grouped_session\tview\tnope\t:\t:0", "no session 'nope' in the file"),
        ("grouped_session\twork\twork\t:\t:0", "also has pane lines of its own"),
        ("grouped_session\tview\twork\t:\t:x", "active window is not an index"),
        ("grouped_session\tview\twork\t:0", "in no format tmux-resurrect writes"),
        ("grouped_session\tview\twork\t0\t0", "in no format tmux-resurrect writes"),
    ],
)
def test_a_grouped_session_line_that_cannot_be_is_refused_with_its_number(
    line: str, message: str
) -> None:
    with pytest.raises(ImportError_, match=f"line 5: .*{message}"):
        imported(resurrect_text(line))


# -- a repair is not repeated for another session of the group --------------------------


def _plan(session: str, *steps: object) -> object:
    from recovery.health import Health, Verdict
    from recovery.strategies import RecoveryPlan

    verdict = Verdict(server="/tmp/s", session=session, health=Health.CORRUPTED)
    return RecoveryPlan(verdict=verdict, steps=steps)


def test_a_step_taken_for_one_member_is_not_taken_again_for_the_other() -> None:
    from recovery.strategies import Step, StepKind, step_key, without_repeats

    checkpoint = Step(kind=StepKind.CHECKPOINT)
    shared = Step(kind=StepKind.RESPAWN_PANE, pane_id="%1", argv=("tail", "-f", "x"))
    own = Step(kind=StepKind.RESPAWN_PANE, pane_id="%7")
    first = _plan("work", checkpoint, shared)
    left, by = without_repeats(first, {})  # type: ignore[arg-type]
    assert left is first and by == set()
    done = {step_key(shared): "work"}
    alone, by = without_repeats(_plan("view", checkpoint, shared), done)  # type: ignore[arg-type]
    assert alone is None and by == {"work"}  # nothing left that acts
    mixed, by = without_repeats(_plan("view", checkpoint, shared, own), done)  # type: ignore[arg-type]
    assert mixed is not None and [s.pane_id for s in mixed.steps] == [None, "%7"]
    assert by == {"work"}
    assert step_key(checkpoint) is None  # a checkpoint of each session is its own
