"""How a live session differs from its checkpoint, in lines a person reads."""

from __future__ import annotations

import shlex

from recovery.models import PaneState, SessionState


def describe_program(pane: PaneState) -> str:
    if pane.dead:
        return "dead"
    if pane.program is None:
        return "shell"
    return shlex.join(pane.program.argv)


def diff_sessions(live: SessionState, saved: SessionState) -> list[str]:
    """Differences worth a checkpoint (names, panes, geometry, cwd, programs, zoom)."""
    lines: list[str] = []
    saved_windows = {w.index: w for w in saved.windows}
    live_windows = {w.index: w for w in live.windows}
    for index in sorted(saved_windows.keys() - live_windows.keys()):
        lines.append(f"window {index} '{saved_windows[index].name}' is gone")
    for index in sorted(live_windows.keys() - saved_windows.keys()):
        lines.append(f"window {index} '{live_windows[index].name}' is new")
    for index in sorted(live_windows.keys() & saved_windows.keys()):
        now, then = live_windows[index], saved_windows[index]
        if now.name != then.name and not now.automatic_rename:
            lines.append(f"window {index} renamed '{then.name}' -> '{now.name}'")
        if len(now.panes) != len(then.panes):
            lines.append(
                f"window {index}: {len(now.panes)} panes, checkpoint has {len(then.panes)}"
            )
            continue
        if [p.geometry for p in now.panes] != [p.geometry for p in then.panes]:
            lines.append(f"window {index}: layout changed")
        if now.zoomed != then.zoomed:
            lines.append(f"window {index}: {'zoomed' if now.zoomed else 'unzoomed'}")
        for a, b in zip(now.panes, then.panes, strict=True):
            where = f"pane {index}.{a.index}"
            if a.cwd != b.cwd:
                lines.append(f"{where}: in {a.cwd}, checkpoint in {b.cwd}")
            if describe_program(a) != describe_program(b):
                lines.append(f"{where}: {describe_program(a)}, checkpoint {describe_program(b)}")
    return lines
