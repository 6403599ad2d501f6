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


def program_name(program: str) -> str:
    """`python -m http.server` -> `python`; `/usr/bin/vim x` -> `vim`."""
    first = program.split(" ", 1)[0]
    return first.rsplit("/", 1)[-1]


def holds(layout: tuple[WindowLayout, ...]) -> str:
    """What a checkpoint holds, in a line: `3 windows, 6 panes: claude, vim, pytest`."""
    panes = sum(len(w.panes) for w in layout)
    text = f"{len(layout)} window{'s' * (len(layout) != 1)}, {panes} pane{'s' * (panes != 1)}"
    programs: list[str] = []
    for window in layout:
        for pane in window.panes:
            name = program_name(pane.program)
            if name not in ("shell", "dead", "") and name not in programs:
                programs.append(name)
    return text + (": " + ", ".join(programs) if programs else "")


def diff_layouts(older: tuple[WindowLayout, ...], newer: tuple[WindowLayout, ...]) -> list[str]:
    """How `newer` differs from `older`: windows and panes added (+) or removed (a minus),
    windows renamed, programs changed (`0.0 vim → claude`), panes moved to another
    directory. Geometry alone is not listed (a resize is not news)."""
    lines: list[str] = []
    before = {w.index: w for w in older}
    after = {w.index: w for w in newer}
    for index in sorted(after.keys() - before.keys()):
        lines.append(f"+ window {index}:{after[index].name}")
    for index in sorted(before.keys() - after.keys()):
        lines.append(f"− window {index}:{before[index].name}")
    for index in sorted(before.keys() & after.keys()):
        then, now = before[index], after[index]
        if then.name != now.name:
            lines.append(f"window {index} renamed {then.name} → {now.name}")
        lines += _pane_changes(index, then, now)
    return lines


def _pane_changes(index: int, then: WindowLayout, now: WindowLayout) -> list[str]:
    lines: list[str] = []
    old = {p.index: p for p in then.panes}
    new = {p.index: p for p in now.panes}
    for i in sorted(new.keys() - old.keys()):
        lines.append(f"+ pane {index}.{i} {program_name(new[i].program)}")
    for i in sorted(old.keys() - new.keys()):
        lines.append(f"− pane {index}.{i} {program_name(old[i].program)}")
    for i in sorted(old.keys() & new.keys()):
        a, b = old[i], new[i]
        if a.program != b.program:
            lines.append(f"{index}.{i} {program_name(a.program)} → {program_name(b.program)}")
        elif a.cwd != b.cwd:
            lines.append(f"{index}.{i} moved to {b.cwd}")
    return lines
