"""classify_server: one poll's observations + memory -> a verdict per session, and new memory.

Pure: no clock, no I/O. Built on FIELD_NOTES.md:
- a crash fires no hook; `kill-server` fires the first session's `session-closed` hook;
- a timeout alone is not a freeze: the server must be stopped (T) or time out repeatedly;
- a stopped foreground group or a writer stuck behind XOFF freezes a pane; copy mode and
  disabled input never count;
- a dead pane is damage only for SIGKILL/SEGV/BUS/ABRT/ILL/FPE, a lost exit status, or a
  non-zero exit of a program that was the pane's own command.
"""

from __future__ import annotations

import signal
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from recovery.health import DisconnectKind, FrozenKind, Health, PaneIssue, Verdict
from recovery.models import PaneState, ProgramState, ServerState, SessionState
from recovery.observations import PaneMemory, ServerMemory, ServerProbe

DAMAGE_SIGNALS = frozenset(
    {signal.SIGKILL, signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGILL, signal.SIGFPE}
)
TIMEOUTS_BEFORE_FROZEN = 3
STUCK_CPU = 0.02
"""CPU seconds a silent server may use over its silence and still count as stuck."""
SPIN_SHARE = 0.5
"""A silent server using this share of a CPU is in a busy loop, not waiting for one."""
SPIN_UNDER_PRESSURE = 60.0
"""Under CPU pressure a spinning, silent server is frozen only after this many seconds."""
REAP_POLLS = 3
"""Polls a lost exit status is a reaping state (tmux asked to reap it) before it is damage."""
HOOK_SLACK = 2.0
"""The hook stamps whole seconds; a close up to this long before the last good poll counts."""


@dataclass(frozen=True)
class ClassifyInput:
    probe: ServerProbe
    memory: ServerMemory
    now: float
    skip: Collection[str] = ()
    """Session names not guarded (ignored or forgotten)."""
    restore_set: Collection[str] = ()
    """Sessions the server should hold (its manifest minus tombstones)."""
    starting: bool = False
    saved_by_server: Mapping[str, int] = field(default_factory=dict)
    """At the start: the server pid each session of the restore set was last saved from.
    A session missing from that very server was closed (a crash takes all or nothing)."""
    freeze_grace: float = 2.0
    rebooted: bool = False
    under_pressure: bool = False
    """The machine is short of CPU: slowness is expected, never a verdict by itself."""


@dataclass
class ClassifyResult:
    verdicts: list[Verdict]
    memory: ServerMemory
    closed: list[str] = field(default_factory=list)
    """Sessions a person closed (they leave the restore set)."""
    renamed: list[tuple[str, str]] = field(default_factory=list)
    """(old name, new name): followed by session id, never a close plus a new session."""


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def judge_dead_pane(pane: PaneState, remembered: PaneMemory | None) -> tuple[bool, str, bool]:
    """(is damage, why, exit status lost) for a pane with `pane_dead=1`."""
    if pane.dead_status is None and pane.dead_signal is None:
        return True, "exit status lost (tmux never reaped it)", True
    if pane.dead_signal is not None:
        name = signal_name(pane.dead_signal)
        if pane.dead_signal in DAMAGE_SIGNALS:
            return True, f"killed by {name}", False
        return False, f"ended by {name}", False
    status = pane.dead_status or 0
    if status == 0:
        return False, "exited normally", False
    was_shell = remembered.is_shell if remembered is not None else not pane.start_command
    if was_shell:
        return False, f"shell exited with status {status}", False
    program = remembered.argv[0] if remembered and remembered.argv else pane.start_command
    return True, f"{program} exited with status {status}", False


def classify_server(given: ClassifyInput) -> ClassifyResult:
    probe, memory = given.probe, given.memory
    if probe.state is not None:
        return _classify_live(given)
    if probe.error == "not_answering":
        return _classify_silent(given)
    if probe.error in ("absent", "not_running"):
        return _classify_gone(given)
    # tmux answered with an unexpected error: say so, change nothing
    verdicts = [
        Verdict(
            server=probe.socket_path,
            session=name,
            health=Health.HEALTHY,
            evidence=(f"cannot read the server: {probe.message}",),
        )
        for name in _known_sessions(given)
    ]
    return ClassifyResult(verdicts, memory)


def _known_sessions(given: ClassifyInput) -> list[str]:
    names = list(given.memory.sessions.values()) if given.memory.last_ok_at else []
    names += [n for n in given.memory.missing if n not in names]
    names += [n for n in given.restore_set if n not in names]
    return [n for n in names if n not in given.skip]


@dataclass
class _PaneMemories:
    """What a poll of a live server learns about its panes, for the next poll."""

    panes: dict[str, PaneMemory] = field(default_factory=dict)
    stopped_since: dict[str, float] = field(default_factory=dict)
    xoff: dict[str, tuple[int, int, int, float]] = field(default_factory=dict)
    reaping: dict[str, int] = field(default_factory=dict)


@dataclass
class _Absences:
    """Known sessions not on the live server: each closed, renamed or failed."""

    verdicts: list[Verdict] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)


def _classify_live(given: ClassifyInput) -> ClassifyResult:
    probe, memory = given.probe, given.memory
    state = probe.state
    assert state is not None
    pid = state.server.pid
    learned = _PaneMemories()
    verdicts = [
        _with_binary_check(probe, pid, _classify_session(given, session, pid, learned))
        for session in state.sessions
        if session.name not in given.skip
    ]
    live_names = {s.name for s in state.sessions}
    orphan = memory.pid is not None and memory.pid != pid and memory.pid in probe.listeners
    if orphan:
        absences = _Absences(verdicts=_split_brain(given, pid, live_names))
    else:
        absences = _gone_from_live_server(given, state, pid)
    if given.starting:
        _missing_at_start(given, live_names, absences)
    verdicts += absences.verdicts
    new_memory = _memory_after_live(given, state, orphan, verdicts, learned)
    return ClassifyResult(verdicts, new_memory, absences.closed, absences.renamed)


def _with_binary_check(probe: ServerProbe, pid: int | None, verdict: Verdict) -> Verdict:
    """A healthy session on a server running another binary than the installed tmux."""
    if not probe.foreign_binary or verdict.health is not Health.HEALTHY:
        return verdict
    return verdict.model_copy(
        update={
            "health": Health.DISCONNECTED,
            "disconnect": DisconnectKind.VERSION_MISMATCH,
            "binary": probe.foreign_binary,
            "evidence": (
                f"server pid {pid} runs {probe.foreign_binary}, not the "
                "installed tmux: attaching may fail",
            ),
        }
    )


def _split_brain(given: ClassifyInput, pid: int | None, live_names: set[str]) -> list[Verdict]:
    """The sessions we knew live on a server that lost its socket path to another."""
    memory = given.memory
    why = f"server pid {memory.pid} still runs but server pid {pid} now owns its socket path"
    return [
        _absent(
            given.probe,
            name,
            Health.DISCONNECTED,
            memory.pid,
            (why,),
            disconnect=DisconnectKind.SPLIT_BRAIN,
            other_pid=pid,
        )
        for name in memory.sessions.values()
        if name not in live_names and name not in given.skip
    ]


def _gone_from_live_server(given: ClassifyInput, state: ServerState, pid: int | None) -> _Absences:
    """Sessions we knew that this live server does not hold. The same server: each was
    renamed (same id) or closed by a person. Another server than the one we knew, the old
    one gone: its sessions vanished with it (a crash we did not see, or a rebuild that
    fell short), so the missing ones are crashed, unless a hook said otherwise."""
    probe, memory = given.probe, given.memory
    found = _Absences()
    live_names = {s.name for s in state.sessions}
    names_by_id = {s.session_id: s.name for s in state.sessions}
    replaced = memory.pid is not None and pid != memory.pid
    hooked = {e.session_id for e in probe.closed}
    for session_id, name in memory.sessions.items():
        # ids ($N) restart in every server: across a replaced one only names match
        if name in live_names:
            continue
        if session_id in names_by_id and not replaced:
            found.renamed.append((name, names_by_id[session_id]))
            continue
        if replaced and memory.stopped_on_purpose is None and session_id not in hooked:
            if name not in given.skip:
                found.verdicts.append(_not_back(probe, name, memory.pid, pid))
            continue
        found.closed.append(name)  # vanished while its server lives: closed, never a crash
    judged = {v.session for v in found.verdicts}
    for name, old_pid in memory.missing.items():
        if name not in live_names and name not in given.skip and name not in judged:
            found.verdicts.append(_not_back(probe, name, old_pid, pid))
    return found


def _not_back(probe: ServerProbe, name: str, old_pid: int | None, pid: int | None) -> Verdict:
    """A session that vanished with a server another has since replaced."""
    evidence = (f"server pid {old_pid} was replaced by pid {pid}; the session did not come back",)
    return _absent(probe, name, Health.CRASHED, old_pid, evidence)


def _missing_at_start(given: ClassifyInput, live_names: set[str], absences: _Absences) -> None:
    """At the watcher's start, a session of the restore set that is not there crashed
    (the server was replaced, or the machine rebooted), unless the hook wrote down that a
    person closed it while no watcher ran, or it was last saved from this very server."""
    closed_at_start = {e.name for e in given.probe.closed}
    live_pid = given.probe.state.server.pid if given.probe.state else None
    for name in given.restore_set:
        if name in live_names or name in given.skip:
            continue
        same_server = live_pid is not None and given.saved_by_server.get(name) == live_pid
        if name in closed_at_start or (same_server and not given.rebooted):
            absences.closed.append(name)
            continue
        evidence = _start_evidence(given, "missing")
        # The server runs: there is no old server to wait for, only the session to build.
        absences.verdicts.append(_absent(given.probe, name, Health.CRASHED, None, evidence))


def _memory_after_live(
    given: ClassifyInput,
    state: ServerState,
    orphan: bool,
    verdicts: list[Verdict],
    learned: _PaneMemories,
) -> ServerMemory:
    memory = given.memory
    # Sessions missing from a replaced server are remembered apart, with the pid of the
    # server they vanished with, so they stay crashed, and are retried, until they are
    # back; the memory's pid is always the server that answers now.
    # sessions not guarded (ignored, being built) are never remembered: a crash would
    # otherwise make them "missing"
    live_ids = [s for s in state.sessions if s.name not in given.skip]
    live = {s.name for s in state.sessions}
    missing = {
        v.session: v.server_pid
        for v in verdicts
        if v.health is Health.CRASHED and v.session not in live
    }
    return ServerMemory(
        last_ok_at=given.now,
        pid=memory.pid if orphan else state.server.pid,
        sessions=dict(memory.sessions) if orphan else {s.session_id: s.name for s in live_ids},
        missing=dict(memory.missing) if orphan else missing,
        timeouts=0,
        panes=learned.panes,
        stopped_since=learned.stopped_since,
        xoff=learned.xoff,
        reaping=learned.reaping,
    )


@dataclass
class _SessionFindings:
    """What the panes of one session showed at this poll."""

    damaged: list[PaneIssue] = field(default_factory=list)
    closable: list[str] = field(default_factory=list)
    reaping: list[str] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    xoff_panes: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


def _classify_session(
    given: ClassifyInput,
    session: SessionState,
    server_pid: int | None,
    learned: _PaneMemories,
) -> Verdict:
    found = _SessionFindings()
    for window in session.windows:
        for pane in window.panes:
            where = f"pane {window.index}.{pane.index}"
            if pane.dead:
                _judge_dead(given, window.index, pane, where, found, learned)
                continue
            learned.panes[pane.pane_id] = PaneMemory(
                is_shell=pane.is_shell,
                argv=pane.program.argv if pane.program else None,
                cwd=pane.cwd,
                exe=pane.program.exe if pane.program else None,
            )
            if pane.in_mode or pane.input_off:
                continue  # copy mode and disabled input are a person's doing, never frozen
            if pane.stopped:
                _judge_stopped(given, pane, where, found, learned)
            if pane.writer_blocked:
                _judge_blocked_writer(given, pane, where, found, learned)
    return _session_verdict(given, session, server_pid, found)


def _judge_dead(
    given: ClassifyInput,
    window_index: int,
    pane: PaneState,
    where: str,
    found: _SessionFindings,
    learned: _PaneMemories,
) -> None:
    remembered = given.memory.panes.get(pane.pane_id)
    is_damage, why, lost = judge_dead_pane(pane, remembered)
    if remembered is not None:
        learned.panes[pane.pane_id] = remembered
    if lost:
        polls = given.memory.reaping.get(pane.pane_id, 0) + 1
        learned.reaping[pane.pane_id] = polls
        if polls <= REAP_POLLS:  # tmux's SIGCHLD bug: ask it to reap, judge the death then
            found.reaping.append(pane.pane_id)
            return
    if not is_damage:
        found.closable.append(pane.pane_id)
        return
    program = None
    if remembered is not None and remembered.argv:
        program = ProgramState(argv=remembered.argv, pid=0, started_at=0.0, exe=remembered.exe)
    found.damaged.append(
        PaneIssue(
            pane_id=pane.pane_id,
            window_index=window_index,
            pane_index=pane.index,
            reason=why,
            cwd=remembered.cwd if remembered else pane.cwd,
            program=program,
            is_shell=remembered.is_shell if remembered else not pane.start_command,
            lost_status=lost,
        )
    )
    found.evidence.append(f"{where}: {why}")


def _judge_stopped(
    given: ClassifyInput,
    pane: PaneState,
    where: str,
    found: _SessionFindings,
    learned: _PaneMemories,
) -> None:
    now = given.now
    since = given.memory.stopped_since.get(pane.pane_id, now)
    learned.stopped_since[pane.pane_id] = since
    leader = pane.program or pane.process
    group = pane.foreground_group or (leader.pid if leader else None)
    if now - since >= given.freeze_grace and group is not None:
        found.groups.append(group)
        name = leader.name if leader else "program"
        found.evidence.append(f"{where}: {name} stopped for {now - since:.0f}s")


def _judge_blocked_writer(
    given: ClassifyInput,
    pane: PaneState,
    where: str,
    found: _SessionFindings,
    learned: _PaneMemories,
) -> None:
    """Backpressure also blocks a fast writer; only output that does not move is XOFF.
    The writer's byte count is exact (scrollback at its limit and a cursor at the bottom
    stand still while output flows)."""
    now = given.now
    if pane.written_bytes is not None:
        signature = (pane.written_bytes, -1, -1)
    else:
        signature = (pane.history_size, pane.cursor[0], pane.cursor[1])
    previous = given.memory.xoff.get(pane.pane_id)
    since = previous[3] if previous and previous[:3] == signature else now
    learned.xoff[pane.pane_id] = (*signature, since)
    if now - since >= given.freeze_grace:
        found.xoff_panes.append(pane.pane_id)
        found.evidence.append(f"{where}: output stopped (XOFF) for {now - since:.0f}s")


def _session_verdict(
    given: ClassifyInput, session: SessionState, server_pid: int | None, found: _SessionFindings
) -> Verdict:
    common = Verdict(
        server=given.probe.socket_path,
        session=session.name,
        health=Health.HEALTHY,
        session_id=session.session_id,
        attached=session.attached > 0,
        server_pid=server_pid,
        closable_panes=tuple(found.closable),
        reaping_panes=tuple(found.reaping),
    )
    if found.groups or found.xoff_panes:
        kind = FrozenKind.PANE_STOPPED if found.groups else FrozenKind.XOFF
        return common.model_copy(
            update={
                "health": Health.FROZEN,
                "frozen": kind,
                "stopped_groups": tuple(found.groups),
                "xoff_panes": tuple(found.xoff_panes),
                "evidence": tuple(found.evidence),
                "damaged_panes": tuple(found.damaged),
            }
        )
    if found.damaged:
        return common.model_copy(
            update={
                "health": Health.CORRUPTED,
                "damaged_panes": tuple(found.damaged),
                "evidence": tuple(found.evidence),
            }
        )
    return common


def _classify_silent(given: ClassifyInput) -> ClassifyResult:
    """A server that does not answer. A timeout alone is never a verdict: it is frozen
    when stopped (state T), or when its silence lasted TIMEOUTS_BEFORE_FROZEN polls AND
    its CPU time confirms it: no progress at all (stuck), or spinning while the machine
    has CPU to spare (a busy loop). Under CPU pressure a spinning server is only slow,
    until SPIN_UNDER_PRESSURE seconds have passed."""
    probe, memory = given.probe, given.memory
    pid = memory.pid if memory.pid is not None else (probe.listeners or (None,))[0]
    timeouts = memory.timeouts + 1
    process = probe.process_state.get(pid) if pid is not None else None
    cpu = probe.process_cpu.get(pid) if pid is not None else None
    since = memory.silent_since or (given.now, cpu if cpu is not None else -1.0)
    names = _known_sessions(given)
    health, kind, evidence = _silence(given, pid, process, timeouts, since, cpu)
    verdicts = [
        # a session still missing from a replaced server is not made healthy by slowness
        _not_back(probe, name, memory.missing[name], pid)
        if name in memory.missing and health is Health.HEALTHY
        else Verdict(
            server=probe.socket_path,
            session=name,
            health=health,
            frozen=kind,
            server_pid=pid,
            evidence=evidence,
        )
        for name in names
    ]
    update = {"timeouts": timeouts, "pid": pid, "silent_since": since}
    return ClassifyResult(verdicts, memory.model_copy(update=update))


def _silence(
    given: ClassifyInput,
    pid: int | None,
    process: str | None,
    timeouts: int,
    since: tuple[float, float],
    cpu: float | None,
) -> tuple[Health, FrozenKind | None, tuple[str, ...]]:
    if process == "T":
        why = f"server pid {pid} does not answer and is stopped (state T)"
        return Health.FROZEN, FrozenKind.SERVER_STOPPED, (why,)
    silent_for = given.now - since[0]
    used = cpu - since[1] if cpu is not None and since[1] >= 0 else None
    said = f"server pid {pid} did not answer {timeouts} polls in a row (state {process or '?'}"
    if timeouts >= TIMEOUTS_BEFORE_FROZEN and used is not None and silent_for > 0:
        if used < STUCK_CPU:
            why = f"{said}, no CPU used in {silent_for:.0f} s: stuck)"
            return Health.FROZEN, FrozenKind.SERVER_UNRESPONSIVE, (why,)
        share = used / silent_for
        if share >= SPIN_SHARE and (not given.under_pressure or silent_for >= SPIN_UNDER_PRESSURE):
            why = f"{said}, busy at {share:.0%} of a CPU for {silent_for:.0f} s)"
            return Health.FROZEN, FrozenKind.SERVER_UNRESPONSIVE, (why,)
    slow = "server slow to answer" + (" under CPU pressure" if given.under_pressure else "")
    return Health.HEALTHY, None, (f"{slow} ({timeouts} polls; state {process or '?'})",)


def _classify_gone(given: ClassifyInput) -> ClassifyResult:
    probe, memory = given.probe, given.memory
    names = _known_sessions(given)
    if probe.listeners:
        pid = memory.pid if memory.pid in probe.listeners else probe.listeners[0]
        split = len(probe.listeners) > 1
        kind = DisconnectKind.SPLIT_BRAIN if split else DisconnectKind.SOCKET_MISSING
        why = (
            f"server pid {pid} runs but its socket {probe.socket_path} is "
            f"{'missing' if not probe.socket_exists else 'unreachable'}"
        )
        if split:
            why = f"servers {', '.join(map(str, probe.listeners))} all claim {probe.socket_path}"
        verdicts = [
            Verdict(
                server=probe.socket_path,
                session=name,
                health=Health.DISCONNECTED,
                disconnect=kind,
                server_pid=pid,
                evidence=(why,),
                other_pid=next((p for p in probe.listeners if p != pid), None),
            )
            for name in names
        ]
        reset = {"pid": pid, "timeouts": 0, "silent_since": None}
        return ClassifyResult(verdicts, memory.model_copy(update=reset))
    if memory.last_ok_at is None:
        evidence = _start_evidence(given, "not running")
        health = Health.CRASHED
    else:
        hooked = [
            e.name
            for e in probe.closed
            if e.session_id in memory.sessions and e.at >= memory.last_ok_at - HOOK_SLACK
        ]
        if memory.stopped_on_purpose is not None:
            health, evidence = Health.STOPPED, (memory.stopped_on_purpose,)
        elif hooked:
            health = Health.STOPPED
            evidence = (
                f"server shut down on purpose (session-closed hook for '{hooked[0]}' "
                "just before it exited)",
            )
            memory = memory.model_copy(update={"stopped_on_purpose": evidence[0]})
        else:
            health = Health.CRASHED
            evidence = (f"server pid {memory.pid} vanished without a session-closed hook",)
    verdicts = [
        Verdict(
            server=probe.socket_path,
            session=name,
            health=health,
            server_pid=memory.pid,
            evidence=evidence,
        )
        for name in names
    ]
    return ClassifyResult(verdicts, memory.model_copy(update={"timeouts": 0, "silent_since": None}))


def _absent(
    probe: ServerProbe,
    name: str,
    health: Health,
    server_pid: int | None,
    evidence: tuple[str, ...],
    **extra: Any,
) -> Verdict:
    """The verdict for a session that is not on the live server we read."""
    return Verdict(
        server=probe.socket_path,
        session=name,
        health=health,
        server_pid=server_pid,
        evidence=evidence,
        **extra,
    )


def _start_evidence(given: ClassifyInput, what: str) -> tuple[str, ...]:
    if given.rebooted:
        return (f"session {what} after a reboot (boot id changed)",)
    return (f"session {what} when the watcher started",)
