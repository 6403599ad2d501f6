"""How two layouts of a session differ, pane by pane: pure functions over the rows the
service gives (no tmux), for the pictures' marks and the checkpoint picker's lines."""

from __future__ import annotations

from guardian.view import PaneBox, WindowLayout

Marks = dict[int, str]
"""Pane index -> `new`, `gone` or `changed`."""


def same_pane(a: PaneBox, b: PaneBox) -> bool:
    """The same program in the same directory (geometry is the layout's business)."""
    return a.program == b.program and a.cwd == b.cwd and a.dead == b.dead


def pane_marks(live: WindowLayout | None, saved: WindowLayout | None) -> tuple[Marks, Marks]:
    """Marks for the live window's panes and for the saved window's: a pane only live is
    new, one only saved is gone, one in both running something else (or elsewhere) is
    changed in both. With one side missing there is nothing to compare: no marks."""
    if live is None or saved is None:
        return {}, {}
    now = {p.index: p for p in live.panes}
    then = {p.index: p for p in saved.panes}
    live_marks: Marks = dict.fromkeys(now.keys() - then.keys(), "new")
    saved_marks: Marks = dict.fromkeys(then.keys() - now.keys(), "gone")
    for i in now.keys() & then.keys():
        if not same_pane(now[i], then[i]):
            live_marks[i] = saved_marks[i] = "changed"
    return live_marks, saved_marks


def pick(windows: tuple[WindowLayout, ...], index: int | None) -> WindowLayout | None:
    """The window with this index, else the active one, else the first."""
    for window in windows:
        if window.index == index:
            return window
    return next((w for w in windows if w.active), windows[0] if windows else None)
