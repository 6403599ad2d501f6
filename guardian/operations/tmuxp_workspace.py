"""A tmuxp workspace file as `tmuxp load` reads it: tmuxp's own loader expands it
(shorthands, `start_directory` against the file's directory, environment variables,
`shell_command_before` trickled into every pane); `recovery.importers.tmuxp` makes the
session of it. Only the loader's pure functions run: nothing of the file is executed."""

from __future__ import annotations

import copy
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from recovery.checkpoint import Checkpoint
from recovery.importers import ImportError_
from recovery.importers.tmuxp import DEFAULT_SIZE, load_workspace, parse_expanded
from recovery.layout import MAX_CELL
from recovery.models import ServerInfo


def expanded(workspace: dict[str, Any], source_dir: str) -> dict[str, Any]:
    from tmuxp.workspace import loader  # (slow to import: only when a file is imported)

    try:
        result = loader.trickle(loader.expand(copy.deepcopy(workspace), cwd=source_dir))
    except (AssertionError, AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ImportError_(f"tmuxp cannot read it either ({type(exc).__name__}: {exc})") from None
    if not isinstance(result, dict):
        raise ImportError_("tmuxp cannot read it either (not a workspace)")
    return result


def tmuxp_checkpoint(
    text: str, source: Path | None, server: ServerInfo, when: datetime, *, vouched: bool
) -> Checkpoint:
    """`source`: the file (its directory anchors relative paths; `.json` is read as JSON)."""
    here = str(Path.cwd())
    workspace = load_workspace(text, json_file=source is not None and source.suffix == ".json")
    source_dir = str(source.resolve().parent) if source is not None else here
    size = build_size()
    return parse_expanded(
        expanded(workspace, source_dir), server, when, here, vouched=vouched, size=size
    )


def build_size() -> tuple[int, int]:
    """The size `tmuxp load` builds a session at from here: the terminal's (COLUMNS and
    LINES first, then the terminal itself, then tmuxp's TMUXP_DEFAULT_COLUMNS/ROWS), or
    tmux's default 80x24 with TMUXP_DETECT_TERMINAL_SIZE off; within tmux's bounds."""
    from tmuxp.workspace.builder import get_default_columns, get_default_rows

    if os.getenv("TMUXP_DETECT_TERMINAL_SIZE", "1") != "1":
        return DEFAULT_SIZE
    try:
        fallback = (get_default_columns(), get_default_rows())
        columns, lines = shutil.get_terminal_size(fallback=fallback)
    except ValueError:  # a variable that is not a number: tmuxp itself would fail
        return DEFAULT_SIZE
    return (min(max(columns, 2), MAX_CELL), min(max(lines, 2), MAX_CELL))
