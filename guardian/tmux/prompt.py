"""Typing at a shell's prompt, and only there. A restore types a held or run-in-shell
command once the pane's shell waits at its prompt, never while its start-up files run (an
update check's `read` would eat the line) and never into a running program.

At its prompt a line-editing shell (bash, zsh, fish, ...) holds the terminal (the tty's
foreground group is the shell's own), sleeps, has put the terminal in raw mode (no
ICANON, no ECHO: its line editor reads keys) and stops using the CPU. A `read` in a
start-up file leaves the terminal canonical, a program it runs holds the terminal or is
waited for. Shells without a line editor (sh, dash) are judged by where they sleep.
Bounded: a shell not at its prompt in time gets nothing typed, and a warning."""

from __future__ import annotations

import contextlib
import os
import termios
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from guardian.tmux.procfs import (
    SHELLS,
    argv_of,
    children_of,
    read_proc,
    read_stat,
    wrapped_shell,
)
from recovery.may_run.text import typing_refusal, visible

SAMPLE_EVERY = 0.05
# Shells without a line editor read their commands in canonical mode.
PLAIN_SHELLS = frozenset({"sh", "dash", "ash", "busybox"})
# Where a process sleeps while it reads a terminal (/proc/PID/wchan).
TTY_WAITS = ("poll_schedule_timeout", "wait_woken", "n_tty_read", "do_select", "ep_poll")


@dataclass(frozen=True)
class ShellSample:
    """What /proc and the terminal say about a pane's first process at one instant."""

    name: str
    state: str
    holds_terminal: bool
    raw_terminal: bool | None
    """None when the terminal could not be read."""
    wchan: str
    cpu_ticks: int
    busy_children: bool
    """A child in the shell's own process group (a command substitution, a `sleep`);
    counted for shells without a line editor only."""


def at_prompt(sample: ShellSample) -> bool:
    """The shell waits at its prompt in this sample (one sample is not enough: see
    `Settled`)."""
    if sample.name not in SHELLS or sample.state != "S" or not sample.holds_terminal:
        return False
    if sample.name in PLAIN_SHELLS:
        known = sample.wchan not in ("", "0")
        return not sample.busy_children and (not known or sample.wchan.startswith(TTY_WAITS))
    # A line editor reading keys is proof enough: children of its group may be its own
    # background work (fish's first start generates completions for seconds).
    return sample.raw_terminal is True


class Settled:
    """At its prompt in two samples in a row, the CPU still in between."""

    def __init__(self) -> None:
        self._last: ShellSample | None = None

    def judge(self, sample: ShellSample | None) -> bool:
        if sample is None or not at_prompt(sample):
            self._last = None
            return False
        settled = self._last is not None and self._last.cpu_ticks == sample.cpu_ticks
        self._last = sample
        return settled


def sample_shell(pid: int, tty: str) -> ShellSample | None:
    """One look at a pane's shell (its first process, or the shell a `default-command`
    wrapper runs); None when it is gone."""
    argv = argv_of(pid)
    inner = wrapped_shell(pid, argv) if argv is not None else None
    pid = inner if inner is not None else pid
    stat = read_stat(pid)
    raw = read_proc(f"/proc/{pid}/stat")
    if stat is None or not raw:
        return None
    fields = raw[raw.rfind(b")") + 2 :].split()
    name = os.path.basename(os.fsdecode(raw[raw.find(b"(") + 1 : raw.rfind(b")")]))
    wchan = os.fsdecode(read_proc(f"/proc/{pid}/wchan", 256) or b"")
    return ShellSample(
        name=name.lstrip("-"),
        state=stat.state,
        holds_terminal=stat.tpgid == stat.pgrp == pid,
        raw_terminal=_raw_terminal(tty),
        wchan=wchan,
        cpu_ticks=int(fields[11]) + int(fields[12]),
        busy_children=_busy_children(pid, stat.pgrp),
    )


def _raw_terminal(tty: str) -> bool | None:
    """The terminal's line discipline: raw while a line editor reads it. Opening the
    pane's own tty (no controlling-terminal side effect) consumes nothing."""
    try:
        fd = os.open(tty, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        lflag = termios.tcgetattr(fd)[3]
    except termios.error:
        return None
    finally:
        os.close(fd)
    return not lflag & (termios.ICANON | termios.ECHO)


def _busy_children(pid: int, pgrp: int) -> bool:
    for child in children_of(pid):
        stat = read_stat(child)
        if stat is not None and stat.pgrp == pgrp and stat.state != "Z":
            return True
    return False


@dataclass(frozen=True)
class Typing:
    """Keys to type into a pane once its shell is at its prompt."""

    pane_id: str
    keys: str
    press_enter: bool
    where: str
    """The pane as a person names it (`work:1.0`), for warnings."""
    then: tuple[str, ...] = ()
    """More lines, each with Enter, right after (as tmuxp sends a pane's commands)."""
    last_unsent: bool = False
    """The last of `then` is typed without Enter (tmuxp's `enter: false`)."""


@dataclass(frozen=True)
class PaneShell:
    pid: int
    tty: str


LINE_WAIT = 0.5
"""A further line waits this long at most for the prompt to come back: a line that
starts a program (`python`) has the next typed into it, as tmuxp types it."""


@dataclass
class _Queue:
    typing: Typing
    lines: list[str]
    sent_at: float | None = None


def type_at_prompts(
    typings: Sequence[Typing],
    shells: Callable[[], dict[str, PaneShell]],
    send: Callable[[list[list[str]]], object],
    wait: float,
) -> dict[str, str]:
    """Type each pane's keys as soon as its shell is at its prompt, all panes at once,
    for at most `wait` seconds; a pane's further lines each once its prompt is back (or
    after LINE_WAIT). A warning per pane (by id) that got nothing typed."""
    queues = {
        t.pane_id: _Queue(t, [t.keys, *(line for line in t.then if typing_refusal(line) is None)])
        for t in typings
        if t.keys and typing_refusal(t.keys) is None
    }
    judges = {pane_id: Settled() for pane_id in queues}
    deadline = time.monotonic() + wait
    warnings: dict[str, str] = {}
    while queues:
        found, now = shells(), time.monotonic()
        commands: list[list[str]] = []
        for pane_id, queue in list(queues.items()):
            shell = found.get(pane_id)
            if shell is None:
                del queues[pane_id]
                if queue.sent_at is None:
                    warnings[pane_id] = visible(
                        f"{queue.typing.where}: the pane closed before typing"
                    )
                continue
            idle = judges[pane_id].judge(sample_shell(shell.pid, shell.tty))
            waited = queue.sent_at is not None and now - queue.sent_at >= LINE_WAIT
            if idle or waited:
                enter = queue.typing.press_enter or queue.sent_at is not None
                last = len(queue.lines) == 1 and bool(queue.typing.then)
                unsent = queue.typing.last_unsent and last
                commands += _line(pane_id, queue.lines.pop(0), enter=enter and not unsent)
                queue.sent_at = now
                judges[pane_id] = Settled()  # the prompt must come back anew
                if not queue.lines:
                    del queues[pane_id]
        if commands:
            send(commands)
        unstarted = [q for q in queues.values() if q.sent_at is None]
        if not queues or (unstarted and len(unstarted) == len(queues) and now >= deadline):
            break
        if now >= deadline:  # only lines after a first one are left, or never-started ones
            for pane_id in [p for p, q in queues.items() if q.sent_at is None]:
                queue = queues.pop(pane_id)
                warnings[pane_id] = _not_typed(queue.typing, wait)
        time.sleep(SAMPLE_EVERY)
    for pane_id, queue in queues.items():
        warnings[pane_id] = _not_typed(queue.typing, wait)
    return warnings


def _not_typed(typing: Typing, wait: float) -> str:
    return visible(
        f"{typing.where}: its shell was not at a prompt within {wait:g} s; "
        f"'{typing.keys}' was not typed"
    )


def _line(pane_id: str, text: str, *, enter: bool) -> list[list[str]]:
    commands = [["send-keys", "-t", pane_id, "-l", "--", text]]
    if enter:
        commands.append(["send-keys", "-t", pane_id, "Enter"])
    return commands


def pane_shells(listing: str) -> dict[str, PaneShell]:
    """`list-panes -F '#{pane_id} #{pane_pid} #{pane_tty}'` as pane id -> its shell."""
    found: dict[str, PaneShell] = {}
    for line in listing.splitlines():
        with contextlib.suppress(ValueError):
            pane_id, pid, tty = line.split(" ", 2)
            found[pane_id] = PaneShell(int(pid), tty)
    return found
