"""Coming from the peers and going back: `import` tmux-resurrect and tmuxp files,
`export` a checkpoint as a tmuxp workspace."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from guardian.cli.output import err, say
from guardian.errors import UsageError
from guardian.operations.engine import Engine
from guardian.operations.migrate import (
    ImportError_,
    default_resurrect_file,
    export_session,
    import_file,
    imported_commands,
)
from recovery.checkpoint import Checkpoint
from recovery.files import StoreWriteError, atomic_write
from recovery.importers.common import MAX_FILE_BYTES
from recovery.importers.tmuxp import load_workspace, not_carried
from recovery.reading import read_bounded
from recovery.store import describe_bad


def cmd_import(engine: Engine, args: argparse.Namespace, **_: Any) -> int:
    target = engine.one_server("import")
    if args.kind == "tmuxp" and not args.file:
        raise UsageError("import tmuxp needs the workspace FILE")
    path = Path(args.file).expanduser() if args.file else default_resurrect_file()
    try:
        data, _facts = read_bounded(path, MAX_FILE_BYTES, follow=True)
        text = data.decode("utf-8")
    except FileNotFoundError:
        err(f"{path}: no such file")
        return 1
    except UnicodeDecodeError:
        err(f"{path}: not UTF-8 text")
        return 1
    except OSError as exc:
        err(f"{path}: cannot read ({exc.strerror or exc})")
        return 1
    try:
        checkpoints = import_file(
            engine, target, args.kind, text, vouched=args.trust_commands, source=path
        )
    except ImportError_ as exc:
        err(f"{path}: {exc}; nothing imported")
        return 1
    except StoreWriteError as exc:
        err(f"{exc}; nothing imported")
        return 1
    for checkpoint in checkpoints:
        _print_imported(checkpoint, vouched=args.trust_commands)
    if args.kind == "tmuxp":
        for line in not_carried(load_workspace(text, json_file=path.suffix == ".json")):
            say(f"  not carried over: {line}")
    names = " ".join(shlex.quote(c.session.name) for c in checkpoints)
    say(f"restore with: tmux-guardian restore {names}")
    return 0


def _print_imported(checkpoint: Checkpoint, *, vouched: bool) -> None:
    session = checkpoint.session
    say(
        f"imported '{session.name}' ({len(session.windows)} windows, "
        f"{session.pane_count} panes) -> {checkpoint.id}"
    )
    commands = imported_commands(checkpoint)
    if not commands:
        return
    if vouched:
        say("  commands you vouched for (they run when you restore it):")
    else:
        say(
            "  commands read, held at the prompt when restored (not run); "
            "import again with --trust-commands to run them:"
        )
    for line in commands:
        say(f"    {line}")


def cmd_export(engine: Engine, args: argparse.Namespace, **_: Any) -> int:
    target = engine.one_server("export")
    found = export_session(engine, target, args.session, lambda bad: err(describe_bad(bad)))
    if found is None:
        err(f"no checkpoint of '{args.session}' on {target.label}")
        return 1
    checkpoint, text = found
    if args.output:
        atomic_write(Path(args.output).expanduser(), text.encode())
        say(f"wrote {args.output} from checkpoint {checkpoint.id}")
    else:
        sys.stdout.write(text)
    return 0
