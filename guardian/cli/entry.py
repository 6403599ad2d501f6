"""The entry point: parse, build the engine, run one command, and turn every failure into
one line on stderr and an exit code (0 ok, 1 failure, 2 bad usage). Each command module is
imported only when it runs, and Textual only on the UI path."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from config import ConfigError, default_config_path, default_state_dir, load_settings
from guardian.cli.parser import build_parser
from guardian.cli.version import PROG, version
from guardian.errors import UsageError
from recovery.may_run.text import visible

# command -> the module holding `cmd_<command>`: `snapshot` from cron or a key binding must
# not pay for loading the monitor, the UI service or the migration code.
COMMAND_MODULES = {
    "status": "guardian.cli.status",
    "history": "guardian.cli.status",
    "snapshot": "guardian.cli.snapshot",
    "restore": "guardian.cli.restore",
    "checkpoints": "guardian.cli.store",
    "verify": "guardian.cli.store",
    "watch": "guardian.cli.guarding",
    "forget": "guardian.cli.guarding",
    "recover": "guardian.cli.guarding",
    "tmux-conf": "guardian.cli.install",
    "service": "guardian.cli.install",
    "uninstall": "guardian.cli.install",
    "import": "guardian.cli.migrate",
    "export": "guardian.cli.migrate",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(version())
    args = parser.parse_args(argv)
    try:
        return dispatch(args)
    except BrokenPipeError:
        # `... | head` closed the pipe: quiet, and no second complaint when Python flushes
        # stdout on the way out.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except UsageError as exc:
        return _fail(str(exc), 2)
    except ConfigError as exc:
        return _fail(f"config: {exc}", 2)
    except _expected_failures() as exc:
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except Exception as exc:  # a bug, not a user mistake: still one line unless asked
        if os.environ.get("TMUX_GUARDIAN_DEBUG"):
            raise
        return _fail(
            f"internal error: {type(exc).__name__}: {exc} "
            "(set TMUX_GUARDIAN_DEBUG=1 for a traceback)",
            1,
        )


def _expected_failures() -> tuple[type[Exception], ...]:
    from guardian.errors import TmuxError, WatcherBusyError
    from recovery.files import StoreWriteError
    from recovery.signing import SigningKeyError
    from recovery.store import StoreBusyError, UntrustedStoreError

    return (
        TmuxError,
        StoreWriteError,
        StoreBusyError,
        UntrustedStoreError,
        SigningKeyError,
        WatcherBusyError,
        OSError,
    )


def _fail(message: str, code: int) -> int:
    print(f"{PROG}: {visible(message)}", file=sys.stderr)
    return code


def dispatch(args: argparse.Namespace) -> int:
    from guardian.operations.engine import Engine, resolve_servers

    config_path = args.config or default_config_path()
    settings = load_settings(config_path, required=args.config is not None)
    state_dir = args.state_dir or default_state_dir()
    servers = resolve_servers(args.servers or [], settings)
    engine = Engine(settings=settings, state_dir=state_dir, servers=servers)
    explicit = bool(args.servers)
    name = args.command or "tui"
    if name not in ("tmux-conf", "service"):
        engine.check_state_dir()  # the state dir is the person's own, or nothing is done
    if name == "tui":
        from tui.app import run_app  # lazy: the headless paths never load Textual

        return run_app(engine)
    module = importlib.import_module(COMMAND_MODULES[name])
    handler = getattr(module, f"cmd_{name.replace('-', '_')}")
    args.forwarded = _forwarded(args)
    return int(handler(engine, args, explicit_server=explicit))


def _forwarded(args: argparse.Namespace) -> list[str]:
    """The global options a person gave, to hand on to a watcher started elsewhere."""
    words: list[str] = []
    for flag, value in args.servers or []:
        words += [f"-{flag}", value if flag == "L" else str(Path(value).expanduser().resolve())]
    if args.state_dir:
        words += ["--state-dir", str(Path(args.state_dir).expanduser().resolve())]
    if args.config:
        words += ["--config", str(Path(args.config).expanduser().resolve())]
    return words
