"""A tmuxp workspace file as `tmuxp load` reads it: tmuxp's own loader expands it
(shorthands, `start_directory` against the file's directory, environment variables,
`shell_command_before` trickled into every pane); `recovery.importers.tmuxp` makes the
session of it. Only the loader's pure functions run: nothing of the file is executed."""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path
from typing import Any

from recovery.checkpoint import Checkpoint
from recovery.importers import ImportError_
from recovery.importers.tmuxp import load_workspace, parse_expanded
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
    return parse_expanded(expanded(workspace, source_dir), server, when, here, vouched=vouched)
