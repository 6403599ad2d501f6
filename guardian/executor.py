"""Carry out restore plans against tmux: few batched invocations, verified, transactional.

Phases, each ONE tmux invocation for all sessions (tmux stops a command list at the first
error, and `-P` answers plus per-session markers tell how far it got):
  1. create   `new-session -d -P` per session (reads back session, window and pane ids);
  2. build    windows and panes, `select-layout tiled` between splits so room never runs out;
  3. configure sizes, exact layouts, titles, programs, active pane/window, zoom;
then one fresh read verifies every session. A session that fails anywhere is killed by id
(only what we created) and reported; the others go on.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from guardian.errors import TmuxCommandError, TmuxError
from guardian.tmux import FIELD_SEP, TmuxAdapter, format_literal, unvis_session_name
from recovery.files import PRIVATE_FILE, ensure_private_dir
from recovery.models import SessionState
from recovery.plan import LaunchKind, PanePlan, SessionPlan, WindowPlan

# The tmux client sends its whole argv in one message of at most 16 KiB ("command too long").
MAX_INVOCATION_BYTES = 12_000
_SHOW_CONTENTS = 'cat -- "$1"; rm -f -- "$1"; exec "${SHELL:-/bin/sh}"'


@dataclass
class BuiltSession:
    plan: SessionPlan
    session_id: str = ""
    window_ids: list[str] = field(default_factory=list)
    pane_ids: list[list[str]] = field(default_factory=list)
    first_window_index: int = -1


@dataclass
class SessionOutcome:
    name: str
    checkpoint_id: str
    ok: bool
    session_id: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


class PlanExecutor:
    """Builds sessions from plans through one TmuxAdapter."""

    def __init__(self, adapter: TmuxAdapter, scratch_dir: Path | None = None) -> None:
        self.adapter = adapter
        self.scratch_dir = scratch_dir
        self._scratch_files: list[Path] = []
        self._marker = f"tg-{secrets.token_hex(6)}"

    def execute(self, plans: Sequence[SessionPlan]) -> list[SessionOutcome]:
        outcomes: dict[int, SessionOutcome] = {}
        built = [BuiltSession(plan) for plan in plans]
        try:
            for make_pieces, read_output in (
                (self._create_pieces, self._read_create),
                (self._build_pieces, self._read_build),
                (self._configure_pieces, None),
            ):
                built = self._run_phase(built, outcomes, make_pieces, read_output)
            self._verify(built, outcomes)
        except TmuxError as exc:  # server gone or not answering: nothing more can be done
            for item in built:
                self._fail(item, outcomes, f"tmux stopped answering: {exc}")
            for plan in plans:
                outcomes.setdefault(
                    id(plan), SessionOutcome(plan.name, plan.checkpoint_id, False, error=str(exc))
                )
        finally:
            if any(not o.ok for o in outcomes.values()):
                self._remove_scratch()
        return [outcomes[id(plan)] for plan in plans]

    def _run_phase(
        self,
        built: list[BuiltSession],
        outcomes: dict[int, SessionOutcome],
        make_pieces: Callable[[BuiltSession], list[list[list[str]]]],
        read_output: Callable[[BuiltSession, list[str]], None] | None,
    ) -> list[BuiltSession]:
        """Run every session's commands in as few invocations as tmux's message size allows.

        A session's commands come in pieces that each start with an explicit target, so an
        invocation may end between pieces. A marker printed after each session's last
        piece tells how far tmux got; the session that failed is rolled back and the
        pieces after it are sent again."""
        queue: list[tuple[BuiltSession, list[list[str]]]] = []
        for item in built:
            pieces = make_pieces(item) or [[]]
            pieces[-1] = [*pieces[-1], ["display-message", "-p", self._marker]]
            queue += [(item, piece) for piece in pieces]
        done: list[BuiltSession] = []
        failed: set[int] = set()
        pending = list(built)  # sessions not yet finished, in order
        buffer = ""
        position = 0
        while position < len(queue):
            batch: list[int] = []
            size = 0
            while position < len(queue):
                item, piece = queue[position]
                if id(item) in failed:
                    position += 1
                    continue
                cost = sum(_argv_size(command) for command in piece)
                if batch and size + cost > MAX_INVOCATION_BYTES:
                    break
                batch.append(position)
                size += cost
                position += 1
            if not batch:
                break
            commands = [command for index in batch for command in queue[index][1]]
            try:
                # A server we are building is busy, not frozen: a longer bound than a poll's.
                timeout = max(self.adapter.timeout, 5.0) + 0.02 * len(commands)
                output, error = self.adapter.run_commands(commands, timeout=timeout), None
            except TmuxCommandError as exc:
                output, error = exc.stdout, str(exc)
            buffer += output
            while self._marker + "\n" in buffer:
                chunk, buffer = buffer.split(self._marker + "\n", 1)
                item = pending.pop(0)
                if read_output is not None:
                    read_output(item, chunk.splitlines())
                done.append(item)
            if error is not None:
                culprit = pending.pop(0)
                failed.add(id(culprit))
                self._fail(culprit, outcomes, error)
                buffer = ""
                waiting = {id(item) for item in pending}
                later = [i for i in batch if id(queue[i][0]) in waiting]
                if later:  # tmux stopped at the culprit: these never ran, send them again
                    position = min(later)
        return done

    # -- phase 1: sessions ---------------------------------------------------------------

    def _create_pieces(self, item: BuiltSession) -> list[list[list[str]]]:
        plan = item.plan
        window, pane = plan.windows[0], plan.windows[0].panes[0]
        fmt = FIELD_SEP.join(("#{session_id}", "#{window_id}", "#{window_index}", "#{pane_id}"))
        command = ["new-session", "-d", "-P", "-F", fmt, "-s", session_name_arg(plan.name)]
        command += ["-x", str(window.width), "-y", str(window.height)]
        return [[command + self._window_args(window, pane)]]

    def _read_create(self, item: BuiltSession, lines: list[str]) -> None:
        session_id, window_id, window_index, pane_id = lines[0].split(FIELD_SEP)
        item.session_id = session_id
        item.window_ids = [window_id]
        item.pane_ids = [[pane_id]]
        item.first_window_index = int(window_index)

    def _window_args(self, window: WindowPlan, pane: PanePlan) -> list[str]:
        args = [] if window.automatic_rename else ["-n", format_literal(window.name)]
        return args + self._pane_args(pane)

    def _pane_args(self, pane: PanePlan) -> list[str]:
        args = ["-c", format_literal(pane.cwd)]
        launch = pane.launch
        if launch.kind is LaunchKind.COMMAND and launch.command:
            command = list(launch.command)
            # One argument goes through `sh -c`; quote it so it stays one word.
            return [*args, *(command if len(command) > 1 else [f"exec {shlex.quote(command[0])}"])]
        if pane.contents and self.scratch_dir is not None:
            path = self._scratch(pane.contents)
            return [*args, "sh", "-c", _SHOW_CONTENTS, "sh", str(path)]
        return args

    def _scratch(self, text: str) -> Path:
        assert self.scratch_dir is not None
        ensure_private_dir(self.scratch_dir)
        path = self.scratch_dir / f"contents-{secrets.token_hex(8)}.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        self._scratch_files.append(path)
        return path

    def _remove_scratch(self) -> None:
        for path in self._scratch_files:
            with contextlib.suppress(OSError):
                path.unlink()

    # -- phases 2 and 3 ------------------------------------------------------------------

    def _build_pieces(self, item: BuiltSession) -> list[list[list[str]]]:
        plan, pieces = item.plan, []
        first = plan.windows[0]
        for position, window in enumerate(plan.windows):
            commands: list[list[str]] = []
            pieces.append(commands)
            if position == 0 and item.first_window_index != first.index:
                target = f"{item.session_id}:{first.index}"
                commands.append(["move-window", "-s", item.window_ids[0], "-t", target])
            if position > 0:
                target = f"{item.session_id}:{window.index}"
                ids = f"#{{window_id}}{FIELD_SEP}#{{pane_id}}"
                window_args = self._window_args(window, window.panes[0])
                commands.append(["new-window", "-P", "-F", ids, "-t", target, *window_args])
            for count, pane in enumerate(window.panes[1:]):
                # The first split names its pane; later ones follow tmux's current pane,
                # which each split moves to the pane it just made.
                where = ["-t", item.pane_ids[0][0]] if position == 0 and count == 0 else []
                commands.append(
                    ["split-window", "-P", "-F", "#{pane_id}", *where, *self._pane_args(pane)]
                )
                commands.append(["select-layout", "tiled"])
        return pieces

    def _read_build(self, item: BuiltSession, lines: list[str]) -> None:
        queue = iter(lines)
        for position, window in enumerate(item.plan.windows):
            if position > 0:
                window_id, pane_id = next(queue).split(FIELD_SEP)
                item.window_ids.append(window_id)
                item.pane_ids.append([pane_id])
            for _pane in window.panes[1:]:
                item.pane_ids[position].append(next(queue).strip())

    def _configure_pieces(self, item: BuiltSession) -> list[list[list[str]]]:
        pieces: list[list[list[str]]] = []
        active_window = None
        for window, window_id, pane_ids in zip(
            item.plan.windows, item.window_ids, item.pane_ids, strict=True
        ):
            commands: list[list[str]] = []
            pieces.append(commands)
            commands.append(
                [
                    "resize-window",
                    "-t",
                    window_id,
                    "-x",
                    str(window.width),
                    "-y",
                    str(window.height),
                ]
            )
            commands.append(["select-layout", "-t", window_id, window.layout])
            # resize-window leaves `window-size manual` behind; a person attaching later
            # would be stuck at this size.
            commands.append(["set-option", "-w", "-t", window_id, "-u", "window-size"])
            active_pane = pane_ids[0]
            for pane, pane_id in zip(window.panes, pane_ids, strict=True):
                if pane.title:
                    commands.append(
                        ["select-pane", "-t", pane_id, "-T", format_literal(pane.title)]
                    )
                launch = pane.launch
                if launch.keys and launch.kind in (LaunchKind.RUN_IN_SHELL, LaunchKind.TYPED):
                    commands.append(["send-keys", "-t", pane_id, "-l", "--", launch.keys])
                    if launch.press_enter:
                        commands.append(["send-keys", "-t", pane_id, "Enter"])
                if pane.active:
                    active_pane = pane_id
            commands.append(["select-pane", "-t", active_pane])
            if window.zoomed:
                commands.append(["resize-pane", "-Z", "-t", active_pane])
            if window.active:
                active_window = window_id
        pieces.append([["select-window", "-t", active_window or item.window_ids[0]]])
        return pieces

    # -- verification and rollback -------------------------------------------------------

    def _verify(self, built: list[BuiltSession], outcomes: dict[int, SessionOutcome]) -> None:
        state = self.adapter.read_server(probe_processes=False)
        live = {session.session_id: session for session in state.sessions}
        for item in built:
            session = live.get(item.session_id)
            if session is None:
                self._fail(item, outcomes, "the session vanished right after it was built")
                continue
            problems, warnings = compare_with_plan(item.plan, session)
            if problems:
                self._fail(item, outcomes, "; ".join(problems))
                continue
            for window in item.plan.windows:
                for pane in window.panes:
                    if not Path(pane.cwd).is_dir():
                        warnings.append(
                            f"directory {pane.cwd} no longer exists (window {window.index}, "
                            f"pane {pane.index} started elsewhere)"
                        )
            outcomes[id(item.plan)] = SessionOutcome(
                item.plan.name, item.plan.checkpoint_id, True, item.session_id, warnings=warnings
            )

    def _fail(self, item: BuiltSession, outcomes: dict[int, SessionOutcome], error: str) -> None:
        with contextlib.suppress(TmuxError):
            if item.session_id:
                self.adapter.run(["kill-session", "-t", item.session_id])
        outcomes[id(item.plan)] = SessionOutcome(
            item.plan.name, item.plan.checkpoint_id, False, error=error
        )


def compare_with_plan(plan: SessionPlan, session: SessionState) -> tuple[list[str], list[str]]:
    """Problems (the session is wrong) and warnings (it is usable but not identical)."""
    problems: list[str] = []
    warnings: list[str] = []
    live = {w.index: w for w in session.windows}
    for window in plan.windows:
        got = live.get(window.index)
        if got is None:
            problems.append(f"window {window.index} is missing")
            continue
        if len(got.panes) != len(window.panes):
            problems.append(
                f"window {window.index} has {len(got.panes)} panes, expected {len(window.panes)}"
            )
            continue
        known = all(p.geometry[2] > 0 for p in window.panes)  # imported files may lack it
        if known and [p.geometry for p in got.panes] != [p.geometry for p in window.panes]:
            warnings.append(f"window {window.index}: pane geometry differs from the checkpoint")
        if window.zoomed != got.zoomed:
            warnings.append(f"window {window.index}: zoom differs from the checkpoint")
        want_active = next((p.index for p in window.panes if p.active), None)
        got_active = next((p.index for p in got.panes if p.active), None)
        if want_active is not None and want_active != got_active:
            warnings.append(f"window {window.index}: active pane differs from the checkpoint")
    if len(session.windows) != len(plan.windows):
        problems.append(f"{len(session.windows)} windows, expected {len(plan.windows)}")
    return problems, warnings


def session_name_arg(name: str) -> str:
    """A session name as tmux reports it, turned back into a `-s` argument."""
    return format_literal(unvis_session_name(name))


def _argv_size(command: list[str]) -> int:
    return sum(len(part.encode("utf-8", "surrogateescape")) + 1 for part in command) + 2
