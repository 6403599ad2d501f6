"""Taking over from the peers and going back: a tmux-resurrect save file or a tmuxp
workspace becomes checkpoints (all or nothing) that join the restore set; a session's
newest checkpoint becomes a tmuxp workspace."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import yaml

from guardian.operations.engine import Engine
from guardian.operations.tmuxp_workspace import tmuxp_checkpoint
from guardian.tmux.names import vis_session_name
from guardian.tmux.targets import ServerTarget
from recovery.checkpoint import Checkpoint
from recovery.files import StoreWriteError
from recovery.importers import ImportError_, export_tmuxp, parse_resurrect
from recovery.may_run.text import visible
from recovery.models import ServerInfo
from recovery.store import BadCheckpoint
from recovery.tmux_options import RUNS

BadHandler = Callable[[BadCheckpoint], None]

__all__ = [
    "ImportError_",
    "default_resurrect_file",
    "export_session",
    "import_file",
    "imported_commands",
]


def default_resurrect_file() -> Path:
    """tmux-resurrect's `last` save, in either of the directories it has used."""
    for directory in (
        Path.home() / ".tmux" / "resurrect",
        Path.home() / ".local" / "share" / "tmux" / "resurrect",
    ):
        if (directory / "last").exists():
            return directory / "last"
    return Path.home() / ".local" / "share" / "tmux" / "resurrect" / "last"


def import_file(
    engine: Engine,
    target: ServerTarget,
    kind: str,
    text: str,
    *,
    vouched: bool = False,
    source: Path | None = None,
) -> list[Checkpoint]:
    """Parse, then write every checkpoint or none. Raises ImportError_ for a file that
    cannot be imported and StoreWriteError when the store cannot take them.

    The checkpoints are of `import` origin: their commands are held until the person
    vouches for them (`vouched`). They do not join the restore set: a session joins it
    when the person restores it, so a reboot never brings up one they never had."""
    server = ServerInfo(socket_path=target.socket_path)
    now = datetime.now(UTC)
    if kind == "resurrect":
        checkpoints = parse_resurrect(text, server, now, vouched=vouched)
    else:
        checkpoints = [tmuxp_checkpoint(text, source, server, now, vouched=vouched)]
    store = engine.store
    with store.locked():
        results = store.write_many(checkpoints)
        failures = [r for r in results if isinstance(r, StoreWriteError)]
        if failures:
            for result in results:  # all or nothing
                if not isinstance(result, StoreWriteError):
                    result.path.unlink(missing_ok=True)
            raise failures[0]
    return checkpoints


def imported_commands(checkpoint: Checkpoint) -> list[str]:
    """Every command an import read, one line each, where it goes and what it is; and
    what vouching sets besides: the environments, the options that start programs."""
    session = checkpoint.session
    lines = [
        f"{where}: option {name} {visible(value)}"
        for where, options in (("server", session.global_options), ("session", session.options))
        for name, value in options
        if name in RUNS
    ]
    lines += [f"session: {name}={visible(value)}" for name, value in session.environment]
    for window in session.windows:
        for pane in window.panes:
            where = f"window {window.index} pane {pane.index}"
            lines += [f"{where}: {name}={visible(value)}" for name, value in pane.environment]
            if not pane.is_shell and pane.start_command:
                into = ", and types into it:" if pane.typed_commands else ""
                lines.append(f"{where}: runs {visible(pane.start_command)}{into}")
            for command in pane.typed_commands:
                lines.append(f"{where}: {visible(command)}")
    return lines


def export_session(
    engine: Engine, target: ServerTarget, session: str, on_bad: BadHandler
) -> tuple[Checkpoint, str] | None:
    """The newest checkpoint of `session` that verifies, as tmuxp YAML; None without one."""
    checkpoint = engine.store.newest_verified(
        target.socket_path, vis_session_name(session), on_bad=on_bad
    )
    if checkpoint is None:
        return None
    text = yaml.safe_dump(export_tmuxp(checkpoint), sort_keys=False, allow_unicode=True)
    return checkpoint, text
