"""A checkpoint as a tmuxp workspace that `tmuxp load` rebuilds the session from."""

from __future__ import annotations

import shlex
from typing import Any

from recovery.checkpoint import Checkpoint


def export_tmuxp(checkpoint: Checkpoint) -> dict[str, Any]:
    """A tmuxp workspace that `tmuxp load` rebuilds the session from."""
    windows = []
    for window in checkpoint.session.windows:
        panes = []
        for pane in window.panes:
            entry: dict[str, Any] = {"start_directory": pane.cwd}
            if pane.typed_commands:
                entry["shell_command"] = list(pane.typed_commands)
            elif pane.program is not None:
                entry["shell_command"] = [shlex.join(pane.program.argv)]
            if pane.active:
                entry["focus"] = True
            panes.append(entry)
        item: dict[str, Any] = {
            "window_name": window.name,
            "window_index": window.index,
            "layout": window.layout,
            "panes": panes,
        }
        if window.active:
            item["focus"] = True
        windows.append(item)
    return {"session_name": checkpoint.session.name, "windows": windows}
