"""Program strategies' capture at a poll: for each pane whose foreground program a
strategy recognizes, its probe reads what the tool leaves on disk and in /proc; then the
conversation ids are handed out across the server's panes, most exact first (a per-pid
record or an open file, then argv, then guesses, older programs first), never one id to
two panes. The result is each pane's `resume`.

A watcher keeps a `ProbeCache`: a program's probe is read again only every few seconds
(a conversation changes on `/clear`, not every second; checkpoints are at most every
30 s), so a poll mostly pays for the hand-out alone."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from guardian.programs import claude, codex, gemini, opencode
from guardian.programs.editors import find_aider, find_vim
from guardian.programs.found import Found
from guardian.programs.process import Process
from recovery.models import FoundBy, PaneState, Resume, ServerState
from recovery.programs import strategy_for, strategy_named

log = logging.getLogger("tmux_guardian")

PROBES: dict[str, Callable[[Process], Found]] = {
    "claude": claude.find,
    "codex": codex.find,
    "opencode": opencode.find,
    "gemini": gemini.find,
    "aider": find_aider,
    "vim": find_vim,
}


@dataclass
class _Probe:
    pane_id: str
    strategy: str
    process: Process
    found: Found
    chosen: tuple[str, FoundBy] | None = None


REPROBE_AFTER = 5.0


@dataclass
class ProbeCache:
    """Probes by pane and program (pid and start time), each read again after
    `REPROBE_AFTER` seconds; those of panes no longer seen are dropped."""

    entries: dict[tuple[str, int, float], tuple[float, _Probe | None]] = field(default_factory=dict)
    reprobe_after: float = REPROBE_AFTER
    """Longer while the machine is short of CPU (the monitor sets it)."""

    def probe(self, pane: PaneState) -> _Probe | None:
        program = pane.program
        if program is None:
            return _probe(pane)
        key = (pane.pane_id, program.pid, program.started_at)
        now = time.monotonic()
        cached = self.entries.get(key)
        if cached is not None and now - cached[0] < self.reprobe_after:
            found = cached[1]
            return None if found is None else _Probe(found.pane_id, found.strategy,
                                                     found.process, found.found)  # fmt: skip
        found = _probe(pane)
        self.entries[key] = (now, found)
        return found

    def keep_only(self, seen: set[tuple[str, int, float]]) -> None:
        for key in [k for k in self.entries if k not in seen]:
            del self.entries[key]


def capture_resumes(state: ServerState, cache: ProbeCache | None = None) -> ServerState:
    """Each pane's `resume`, probed now (or, with a watcher's `cache`, recently)."""
    panes = _panes(state)
    if cache is None:
        probes = [p for pane in panes if (p := _probe(pane)) is not None]
    else:
        probes = [p for pane in panes if (p := cache.probe(pane)) is not None]
        cache.keep_only(
            {(p.pane_id, p.program.pid, p.program.started_at) for p in panes if p.program}
        )
    if not probes:
        return state
    _hand_out(probes)
    resumes = {p.pane_id: _resume(p) for p in probes}
    sessions = tuple(
        session.model_copy(
            update={
                "windows": tuple(
                    window.model_copy(
                        update={
                            "panes": tuple(
                                pane.model_copy(update={"resume": resumes[pane.pane_id]})
                                if pane.pane_id in resumes
                                else pane
                                for pane in window.panes
                            )
                        }
                    )
                    for window in session.windows
                )
            }
        )
        for session in state.sessions
    )
    return state.model_copy(update={"sessions": sessions})


def _panes(state: ServerState) -> list[PaneState]:
    return [p for s in state.sessions for w in s.windows for p in w.panes]


def _probe(pane: PaneState) -> _Probe | None:
    program = pane.program
    if program is None or pane.dead or len(pane.job) > 1:
        return None
    strategy = strategy_for(program)
    probe = PROBES.get(strategy.name) if strategy is not None else None
    if strategy is None or probe is None:
        return None
    process = Process.of(program)
    if process is None:
        return None
    try:
        found = probe(process)
    except (OSError, ValueError) as exc:  # a vanished process, an odd file: no resume
        log.debug("%s probe of pid %d: %s", strategy.name, program.pid, exc)
        return None
    return _Probe(pane.pane_id, strategy.name, process, found)


def _hand_out(probes: list[_Probe]) -> None:
    """Most exact first, older programs first; an id goes to one pane only."""
    claimed: set[tuple[str, str]] = set()
    by_age = sorted(probes, key=lambda p: p.process.program.started_at)
    for kind in ("exact", "argv", "guess"):
        for probe in by_age:
            if probe.chosen is not None:
                continue
            for session_id, how in probe.found.ranked():
                if how == kind and (probe.strategy, session_id) not in claimed:
                    probe.chosen = (session_id, how)
                    claimed.add((probe.strategy, session_id))
                    break


def _resume(probe: _Probe) -> Resume:
    found, chosen = probe.found, probe.chosen
    strategy = strategy_named(probe.strategy)
    session_id, how = chosen if chosen is not None else (None, None)
    note = found.note if session_id is None else ""
    if session_id is None and not note and found.ranked():
        note = "its conversation belongs to another pane"
    return Resume(
        strategy=probe.strategy,
        session_id=session_id,
        found_by=how,
        cwd=probe.process.cwd,
        argv=strategy.recorded_argv(probe.process.argv) if strategy else probe.process.argv,
        started_at=probe.process.program.started_at,
        file=found.files.get(session_id, found.file) if session_id else found.file,
        file_sha256=found.file_sha256,
        note=note,
    )
