"""The classifier's table of cases, without tmux: observations in, verdicts out."""

from __future__ import annotations

import random
import signal

import pytest

from config.settings import Backoff, Burst, Settings
from recovery.breaker import BreakerState, decide, record_attempt, record_health
from recovery.classifier import REAP_POLLS, ClassifyInput, classify_server, judge_dead_pane
from recovery.health import DisconnectKind, FrozenKind, Health
from recovery.models import ProgramState, ServerInfo, ServerState, SessionState, WindowState
from recovery.observations import ClosedEvent, PaneMemory, ServerMemory, ServerProbe
from recovery.strategies import StepKind, plan_housekeeping, plan_recovery
from tests.factories import pane

SOCK = "/tmp/tg/s"


def state(*panes_, name: str = "work", pid: int = 100) -> ServerState:  # type: ignore[no-untyped-def]
    window = WindowState(
        index=0,
        window_id="@1",
        name="w",
        width=80,
        height=24,
        layout="x",
        active=True,
        panes=tuple(panes_) or (pane(0),),
    )
    session = SessionState(session_id="$1", name=name, created=1, windows=(window,))
    return ServerState(server=ServerInfo(socket_path=SOCK, pid=pid), sessions=(session,), read_at=0)


def run(probe: ServerProbe, memory: ServerMemory | None = None, **kw):  # type: ignore[no-untyped-def]
    return classify_server(
        ClassifyInput(probe=probe, memory=memory or ServerMemory(), now=kw.pop("now", 1000.0), **kw)
    )


def live(*panes_, **kw) -> ServerProbe:  # type: ignore[no-untyped-def]
    return ServerProbe(socket_path=SOCK, state=state(*panes_, **kw), listeners=(100,))


SEEN = ServerMemory(last_ok_at=999.0, pid=100, sessions={"$1": "work"})


def only(result):  # type: ignore[no-untyped-def]
    (verdict,) = result.verdicts
    return verdict


def test_healthy_session() -> None:
    verdict = only(run(live(pane(0), pane(1))))
    assert verdict.health is Health.HEALTHY and not verdict.is_failure


@pytest.mark.parametrize(
    ("signal_", "status", "start", "shell", "damage"),
    [
        (signal.SIGKILL, None, "tail -f x", False, True),
        (signal.SIGSEGV, None, "", True, True),  # even a shell killed by SEGV is damage
        (signal.SIGABRT, None, "prog", False, True),
        (signal.SIGBUS, None, "prog", False, True),
        (signal.SIGILL, None, "prog", False, True),
        (signal.SIGFPE, None, "prog", False, True),
        (signal.SIGINT, None, "tail -f x", False, False),  # Ctrl-C: a person's doing
        (signal.SIGTERM, None, "prog", False, False),
        (signal.SIGHUP, None, "prog", False, False),
        (None, 0, "prog", False, False),
        (None, 1, "prog", False, True),  # a program as the pane's command failing
        (None, 1, "", True, False),  # an interactive shell's exit status is a person's
        (None, 127, "", True, False),
        (None, None, "prog", False, True),  # lost exit status
    ],
)
def test_dead_pane_judgement(signal_, status, start, shell, damage) -> None:  # type: ignore[no-untyped-def]
    dead = pane(0, dead=True, dead_signal=signal_, dead_status=status, start_command=start)
    memory = PaneMemory(is_shell=shell, argv=None if shell else ("prog",), cwd="/x")
    assert judge_dead_pane(dead, memory)[0] is damage
    # (a lost status is judged once tmux had its polls to reap it)
    seen = ServerMemory(panes={"%0": memory}, reaping={"%0": REAP_POLLS})
    verdict = only(run(live(dead, pane(1)), seen))
    if damage:
        assert verdict.health is Health.CORRUPTED
        assert [p.pane_id for p in verdict.damaged_panes] == ["%0"]
        assert verdict.damaged_panes[0].cwd == "/x"
    else:
        assert verdict.health is Health.HEALTHY and verdict.closable_panes == ("%0",)
        assert [s.kind for s in plan_housekeeping(verdict)] == [StepKind.KILL_PANE]


def test_dead_pane_without_memory_uses_start_command() -> None:
    assert judge_dead_pane(pane(0, dead=True, dead_status=1, start_command=""), None)[0] is False
    assert judge_dead_pane(pane(0, dead=True, dead_status=1, start_command="make"), None)[0]


def test_lost_exit_status_is_a_reaping_state_not_a_verdict() -> None:
    """tmux loses about one exit in four (its SIGCHLD bug): the pane is reaped, then judged.
    Only a status still lost after a few polls is damage."""
    lost = live(pane(0, dead=True, start_command="prog"))
    result = run(lost)
    for _ in range(REAP_POLLS):
        verdict = only(result)
        assert verdict.health is Health.HEALTHY and verdict.reaping_panes == ("%0",)
        assert plan_recovery(verdict, Settings()) is None
        assert [(s.kind, s.signal, s.pid) for s in plan_housekeeping(verdict)] == [
            (StepKind.SIGNAL, signal.SIGCHLD, 100)
        ]
        result = run(lost, result.memory)
    verdict = only(result)
    assert verdict.health is Health.CORRUPTED and verdict.damaged_panes[0].lost_status
    reaped = only(run(live(pane(0, dead=True, dead_status=0, start_command="prog")), SEEN))
    assert reaped.health is Health.HEALTHY and not reaped.reaping_panes


def test_stopped_foreground_group_is_frozen_after_grace() -> None:
    vim = ProgramState(argv=("vim",), pid=555, started_at=1)
    stopped = pane(0, stopped=True, program=None).model_copy(update={"program": vim})
    first = run(live(stopped), now=1000.0, freeze_grace=2.0)
    assert only(first).health is Health.HEALTHY
    later = run(live(stopped), first.memory, now=1002.5, freeze_grace=2.0)
    verdict = only(later)
    assert verdict.health is Health.FROZEN and verdict.frozen is FrozenKind.PANE_STOPPED
    assert verdict.stopped_groups == (555,)
    plan = plan_recovery(verdict, Settings())
    assert [(s.kind, s.pid, s.signal) for s in plan.steps] == [  # type: ignore[union-attr]
        (StepKind.SIGNAL_GROUP, 555, signal.SIGCONT)
    ]


@pytest.mark.parametrize("flag", ["in_mode", "input_off"])
def test_copy_mode_and_disabled_input_are_never_frozen(flag: str) -> None:
    quiet = pane(0, stopped=True, writer_blocked=True, **{flag: True})
    first = run(live(quiet), now=1000.0)
    assert only(run(live(quiet), first.memory, now=1100.0)).health is Health.HEALTHY


def test_xoff_needs_unchanged_output_and_a_blocked_writer() -> None:
    blocked = pane(0, writer_blocked=True, history_size=10, cursor=(3, 4))
    first = run(live(blocked), now=1000.0)
    moving = blocked.model_copy(update={"history_size": 11})
    assert only(run(live(moving), first.memory, now=1003.0)).health is Health.HEALTHY
    second = run(live(blocked), first.memory, now=1003.0)
    verdict = only(second)
    assert verdict.health is Health.FROZEN and verdict.xoff_panes == ("%0",)
    plan = plan_recovery(verdict, Settings())
    assert [(s.kind, s.keys) for s in plan.steps] == [(StepKind.SEND_KEYS, "C-q")]  # type: ignore[union-attr]


def test_stopped_server_is_frozen_at_once() -> None:
    probe = ServerProbe(
        socket_path=SOCK, error="not_answering", listeners=(100,), process_state={100: "T"}
    )
    verdict = only(run(probe, SEEN))
    assert verdict.health is Health.FROZEN and verdict.frozen is FrozenKind.SERVER_STOPPED
    plan = plan_recovery(verdict, Settings())
    assert [(s.kind, s.pid, s.signal) for s in plan.steps] == [  # type: ignore[union-attr]
        (StepKind.SIGNAL, 100, signal.SIGCONT)
    ]


def _silent_polls(cpu_per_poll: float, polls: int, **kw):  # type: ignore[no-untyped-def]
    """A server that does not answer `polls` polls in a row, 5 s apart, using
    `cpu_per_poll` CPU seconds between two of them."""
    memory, result, healths = SEEN, None, []
    for n in range(polls):
        probe = ServerProbe(
            socket_path=SOCK,
            error="not_answering",
            listeners=(100,),
            process_state={100: "R"},
            process_cpu={100: 10.0 + n * cpu_per_poll},
        )
        result = run(probe, memory, now=1000.0 + 5 * n, **kw)
        memory = result.memory
        healths.append(only(result).health)
    return healths, result


@pytest.mark.parametrize(
    ("cpu_per_poll", "pressure", "polls", "frozen_at"),
    [
        (0.0, False, 3, 2),  # stuck: no progress at all
        (0.0, True, 3, 2),  # stuck is stuck, however busy the machine
        (4.5, False, 3, 2),  # a busy loop on a machine with CPU to spare
        (4.5, True, 12, None),  # spinning while the machine is short of CPU: only slow...
        (4.5, True, 14, 12),  # ...until a minute of it
        (1.0, False, 6, None),  # working at 20 % of a CPU: slow, never frozen by time alone
    ],
)
def test_a_timeout_alone_is_not_a_freeze(
    cpu_per_poll: float, pressure: bool, polls: int, frozen_at: int | None
) -> None:
    healths, result = _silent_polls(cpu_per_poll, polls, under_pressure=pressure)
    expected = [
        Health.FROZEN if frozen_at is not None and n >= frozen_at else Health.HEALTHY
        for n in range(polls)
    ]
    assert healths == expected
    if frozen_at is None:
        assert "slow to answer" in only(result).evidence[0]
        assert ("under CPU pressure" in only(result).evidence[0]) is pressure


def test_a_silent_server_confirmed_frozen_is_told_or_killed_as_configured() -> None:
    _healths, result = _silent_polls(0.0, 3)
    assert only(result).frozen is FrozenKind.SERVER_UNRESPONSIVE
    assert "stuck" in only(result).evidence[0]
    notify = plan_recovery(only(result), Settings())
    assert [s.kind for s in notify.steps] == [StepKind.NOTIFY] and not notify.counts  # type: ignore[union-attr]
    kill = plan_recovery(only(result), Settings(kill_frozen_server=True))
    assert [s.kind for s in kill.steps] == [
        StepKind.KILL_SERVER,
        StepKind.WAIT_GONE,  # type: ignore[union-attr]
        StepKind.REBUILD,
    ]


def test_server_gone_without_hook_is_a_crash() -> None:
    probe = ServerProbe(socket_path=SOCK, error="not_running")
    verdict = only(run(probe, SEEN))
    assert (
        verdict.health is Health.CRASHED and "without a session-closed hook" in verdict.evidence[0]
    )
    plan = plan_recovery(verdict, Settings())
    assert [s.kind for s in plan.steps] == [StepKind.WAIT_GONE, StepKind.REBUILD]  # type: ignore[union-attr]


def test_server_gone_right_after_a_hook_was_stopped_on_purpose() -> None:
    hooked = ServerProbe(
        socket_path=SOCK,
        error="not_running",
        closed=(ClosedEvent(at=999.0, session_id="$1", name="work"),),
    )
    result = run(hooked, SEEN)
    verdict = only(result)
    assert verdict.health is Health.STOPPED and plan_recovery(verdict, Settings()) is None
    gone = ServerProbe(socket_path=SOCK, error="not_running")  # later polls: no new hook line
    assert only(run(gone, result.memory)).health is Health.STOPPED  # sticky
    stale = ServerProbe(
        socket_path=SOCK,
        error="not_running",
        closed=(ClosedEvent(at=900.0, session_id="$1", name="work"),),
    )
    assert only(run(stale, SEEN)).health is Health.CRASHED


def test_session_gone_while_server_lives_was_closed() -> None:
    memory = ServerMemory(last_ok_at=999.0, pid=100, sessions={"$1": "work", "$2": "gone"})
    result = run(live(), memory)
    assert [v.session for v in result.verdicts] == ["work"]
    assert result.closed == ["gone"]


def test_at_start_missing_restore_set_sessions_are_crashed() -> None:
    gone = run(
        ServerProbe(socket_path=SOCK, error="absent"),
        restore_set=["a", "b"],
        starting=True,
        rebooted=True,
    )
    assert [(v.session, v.health) for v in gone.verdicts] == [
        ("a", Health.CRASHED),
        ("b", Health.CRASHED),
    ]
    assert "reboot" in gone.verdicts[0].evidence[0]
    probe = live().model_copy(update={"closed": (ClosedEvent(at=1, session_id="$9", name="c"),)})
    partial = run(probe, restore_set=["work", "b", "c"], starting=True)
    assert {v.session: v.health for v in partial.verdicts} == {
        "work": Health.HEALTHY,
        "b": Health.CRASHED,
    }


def test_socket_deleted_while_server_runs_is_disconnected() -> None:
    probe = ServerProbe(socket_path=SOCK, error="absent", socket_exists=False, listeners=(100,))
    verdict = only(run(probe, SEEN))
    assert verdict.health is Health.DISCONNECTED
    assert verdict.disconnect is DisconnectKind.SOCKET_MISSING
    plan = plan_recovery(verdict, Settings())
    assert [(s.kind, s.signal) for s in plan.steps] == [  # type: ignore[union-attr]
        (StepKind.MAKE_SOCKET_DIR, None),
        (StepKind.SIGNAL, signal.SIGUSR1),
    ]
    assert plan.steps[0].path == "/tmp/tg"  # type: ignore[union-attr]


def test_split_brain_does_nothing_destructive() -> None:
    probe = ServerProbe(socket_path=SOCK, state=state(name="fresh", pid=200), listeners=(100, 200))
    result = run(probe, SEEN)
    verdicts = {v.session: v for v in result.verdicts}
    assert verdicts["fresh"].health is Health.HEALTHY
    orphan = verdicts["work"]
    assert orphan.health is Health.DISCONNECTED and orphan.disconnect is DisconnectKind.SPLIT_BRAIN
    assert (orphan.server_pid, orphan.other_pid) == (100, 200)
    plan = plan_recovery(orphan, Settings())
    assert [s.kind for s in plan.steps] == [StepKind.NOTIFY]  # type: ignore[union-attr]
    assert result.memory.pid == 100 and result.closed == []


def test_version_mismatch_is_disconnected() -> None:
    probe = live().model_copy(update={"foreign_binary": "/proc/100/exe"})
    verdict = only(run(probe))
    assert verdict.disconnect is DisconnectKind.VERSION_MISMATCH
    assert "/proc/100/exe" in plan_recovery(verdict, Settings()).steps[0].message  # type: ignore[union-attr, operator]


def test_ignored_and_forgotten_sessions_are_skipped() -> None:
    assert run(live(), skip={"work"}).verdicts == []


# -- breaker -----------------------------------------------------------------------------

SETTINGS = Settings(
    backoff=Backoff(initial=1, factor=2, max=8, jitter=0),
    burst=Burst(max=3, window=100),
    grace_period=5,
)


def test_breaker_backs_off_geometrically_and_gives_up() -> None:
    state, now, delays = BreakerState(), 0.0, []
    rng = random.Random(1).random
    for _ in range(3):
        allowed, state, why = decide(state, SETTINGS, now, "crashed")
        assert allowed, why
        state = record_attempt(state, SETTINGS, now, rng)
        delays.append(state.next_allowed_at - now)
        now = state.next_allowed_at  # it fails again as soon as it may
    assert delays == [1, 2, 4]
    allowed, state, why = decide(state, SETTINGS, now, "crashed")
    assert not allowed and state.given_up and "3 recoveries" in why
    allowed, state, why = decide(state, SETTINGS, now + 1000, "crashed")
    assert not allowed and why.startswith("given up")  # sticky


def test_breaker_success_after_grace_resets_backoff() -> None:
    state = record_attempt(BreakerState(), SETTINGS, 0.0, lambda: 0.5)
    assert record_health(state, True, 3.0).failures == state.failures
    state = record_health(state, True, 6.0)
    assert state.probation_until is None and state.failures == 0
    state = record_attempt(state, SETTINGS, 10.0, lambda: 0.5)
    assert state.next_allowed_at - 10.0 == 1


def test_breaker_jitter_stays_in_bounds() -> None:
    settings = Settings(backoff=Backoff(initial=10, factor=2, max=60, jitter=0.2))
    for draw in (0.0, 0.5, 0.999):
        delay = record_attempt(BreakerState(), settings, 0.0, lambda d=draw: d).next_allowed_at
        assert 8 <= delay <= 12


def test_sessions_missing_from_a_replaced_server_are_crashed_not_closed() -> None:
    memory = ServerMemory(last_ok_at=999.0, pid=100, sessions={"$1": "work", "$2": "gone"})
    replaced = ServerProbe(socket_path=SOCK, state=state(pid=200), listeners=(200,))
    result = run(replaced, memory)
    verdicts = {v.session: v for v in result.verdicts}
    assert verdicts["work"].health is Health.HEALTHY
    assert verdicts["gone"].health is Health.CRASHED and verdicts["gone"].server_pid == 100
    assert result.closed == []
    again = run(replaced, result.memory)  # still missing: still crashed (retried)
    assert {v.session: v.health for v in again.verdicts}["gone"] is Health.CRASHED
    back = state(pid=200).model_copy(
        update={
            "sessions": (
                *state(pid=200).sessions,
                state(name="gone", pid=200).sessions[0].model_copy(update={"session_id": "$7"}),
            )
        }
    )
    healed = run(ServerProbe(socket_path=SOCK, state=back, listeners=(200,)), again.memory)
    assert {v.health for v in healed.verdicts} == {Health.HEALTHY}
    assert healed.memory.pid == 200


def test_while_a_session_is_still_missing_the_new_server_is_the_one_watched() -> None:
    """Found by scripts/chaos.py: a rebuild fell short (a session's only checkpoint was
    damaged), the memory kept the dead server's pid, and when the new server was stopped
    the verdict named the dead pid ("state ?") and nothing thawed the real one."""
    memory = ServerMemory(last_ok_at=999.0, pid=100, sessions={"$1": "work", "$2": "gone"})
    replaced = run(ServerProbe(socket_path=SOCK, state=state(pid=200), listeners=(200,)), memory)
    assert replaced.memory.pid == 200
    stopped = ServerProbe(
        socket_path=SOCK, error="not_answering", listeners=(200,), process_state={200: "T"}
    )
    verdicts = {v.session: v for v in run(stopped, replaced.memory, now=1001.0).verdicts}
    assert verdicts["work"].health is Health.FROZEN and verdicts["work"].server_pid == 200
    assert verdicts["work"].frozen is FrozenKind.SERVER_STOPPED
    slow = ServerProbe(socket_path=SOCK, error="not_answering", listeners=(200,))
    verdicts = {v.session: v for v in run(slow, replaced.memory, now=1001.0).verdicts}
    assert verdicts["work"].health is Health.HEALTHY  # slow is not yet a failure...
    assert verdicts["gone"].health is Health.CRASHED  # ...and does not bring "gone" back
    assert verdicts["gone"].server_pid == 100


def test_hook_lines_seen_at_start_take_sessions_out_of_the_restore_set() -> None:
    probe = live().model_copy(update={"closed": (ClosedEvent(at=1, session_id="$9", name="c"),)})
    result = run(probe, restore_set=["work", "c"], starting=True)
    assert result.closed == ["c"] and [v.session for v in result.verdicts] == ["work"]


def test_a_fast_writer_at_history_limit_is_not_xoff() -> None:
    """Scrollback full, cursor at the bottom: only the byte count shows output flowing."""
    first = run(
        live(pane(0, writer_blocked=True, history_size=2000, cursor=(0, 23), written_bytes=1000)),
        now=1000.0,
    )
    flowing = pane(0, writer_blocked=True, history_size=2000, cursor=(0, 23), written_bytes=9000)
    assert only(run(live(flowing), first.memory, now=1010.0)).health is Health.HEALTHY
    stuck = pane(0, writer_blocked=True, history_size=2000, cursor=(0, 23), written_bytes=1000)
    assert only(run(live(stuck), first.memory, now=1010.0)).health is Health.FROZEN
