"""Command line: `tmux-guardian [-L NAME | -S PATH]... [--state-dir DIR] [--config FILE] CMD`.

Exit 0 on success, 1 on failure, 2 on bad usage; errors are one line on stderr.
Textual is imported only on the UI path.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

# pydantic would otherwise scan every installed package for plugins at start-up (~15 ms).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from config import ConfigError, default_config_path, default_state_dir, load_settings

PROG = "tmux-guardian"


class UsageError(Exception):
    """Bad usage: exit 2."""


class _ServerAction(argparse.Action):
    """-L and -S share one ordered, repeatable list, like tmux's own options."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        servers = list(getattr(namespace, "servers", None) or [])
        servers.append(("L" if option_string == "-L" else "S", values))
        namespace.servers = servers


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("server and state")
    group.add_argument(
        "-L",
        metavar="NAME",
        action=_ServerAction,
        dest="servers",
        default=default,
        help="guard the server with this socket name (repeatable)",
    )
    group.add_argument(
        "-S",
        metavar="PATH",
        action=_ServerAction,
        dest="servers",
        default=default,
        help="guard the server with this socket path (repeatable)",
    )
    group.add_argument(
        "--state-dir",
        metavar="DIR",
        type=Path,
        default=default,
        help="checkpoints and journal (env TMUX_GUARDIAN_STATE_DIR)",
    )
    group.add_argument(
        "--config",
        metavar="FILE",
        type=Path,
        default=default,
        help="config file (default ~/.config/tmux-guardian/config.toml)",
    )


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, suppress=True)
    parser = _Parser(
        prog=PROG,
        description="Keeps tmux sessions alive: health, recovery, checksummed checkpoints.",
    )
    _global_options(parser, suppress=False)
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, description=help_text, parents=[common])

    command("tui", "open the terminal UI (the default)")

    status = command("status", "every guarded session, its health and last checkpoint")
    status.add_argument("--json", action="store_true", help="machine-readable output")

    snap = command("snapshot", "checkpoint sessions now (all guarded sessions when none named)")
    snap.add_argument("sessions", nargs="*", metavar="SESSION")
    snap.add_argument("--force", action="store_true", help="write even if nothing changed")
    snap.add_argument("--json", action="store_true", help="machine-readable output")

    rest = command("restore", "rebuild sessions from their newest checkpoint that verifies")
    rest.add_argument("sessions", nargs="*", metavar="SESSION")
    rest.add_argument("--checkpoint", metavar="ID", help="restore exactly this checkpoint")
    rest.add_argument("--dry-run", action="store_true", help="show the plan, create nothing")
    rest.add_argument("--replace", action="store_true", help="replace a session of that name")
    rest.add_argument("--as", dest="as_name", metavar="NAME", help="restore under another name")
    rest.add_argument("--json", action="store_true", help="machine-readable output")

    cps = command("checkpoints", "list checkpoints, newest first")
    cps.add_argument("session", nargs="?", metavar="SESSION")
    cps.add_argument("--json", action="store_true", help="machine-readable output")

    ver = command("verify", "verify every checkpoint's checksum; bad files go to quarantine/")
    ver.add_argument("--json", action="store_true", help="machine-readable output")

    watch = command("watch", "guard sessions in the background: classify, recover, checkpoint")
    watch.add_argument("--interval", type=_positive_float, metavar="S", help="seconds per poll")
    watch.add_argument("--once", action="store_true", help="one poll, then exit")
    watch.add_argument("--no-recover", action="store_true", help="only classify and journal")
    watch.add_argument("--quiet", action="store_true", help="log to the file only")
    watch.add_argument("--verbose", action="store_true", help="log every poll's details")

    hist = command("history", "the recovery journal: verdicts and actions, oldest first")
    hist.add_argument("session", nargs="?", metavar="SESSION")
    hist.add_argument("--limit", type=int, default=50, metavar="N", help="last N entries")
    hist.add_argument("--json", action="store_true", help="machine-readable output")

    forget = command("forget", "stop guarding a session (never recovered or restored again)")
    forget.add_argument("session", metavar="SESSION")

    recover = command("recover", "reset a given-up session and recover it now")
    recover.add_argument("session", metavar="SESSION")

    conf = command("tmux-conf", "print tmux.conf lines: a popup key for the UI, a snapshot key")
    conf.add_argument("--watch", action="store_true", help="also start the watcher with tmux")
    conf.add_argument(
        "--install",
        nargs="?",
        const="~/.tmux.conf",
        metavar="FILE",
        help="write the lines into FILE (default ~/.tmux.conf), once",
    )

    imp = command(
        "import", "take over from tmux-resurrect or tmuxp: their files become checkpoints"
    )
    imp.add_argument("kind", choices=["resurrect", "tmuxp"])
    imp.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="resurrect: default its `last` save; tmuxp: the workspace file",
    )

    exp = command("export", "write a session's newest checkpoint as a tmuxp workspace")
    exp.add_argument("kind", choices=["tmuxp"])
    exp.add_argument("session", metavar="SESSION")
    exp.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")

    service = command("service", "a systemd user unit that runs `watch`")
    service.add_argument("action", choices=["install", "uninstall", "status"])
    return parser


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(PROG)
    except PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return dispatch(args)
    except UsageError as exc:
        return _fail(str(exc), 2)
    except ConfigError as exc:
        return _fail(f"config: {exc}", 2)
    except _expected_failures() as exc:
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        return 1
    except Exception as exc:  # a bug, not a user mistake: still one line unless asked
        if os.environ.get("TMUX_GUARDIAN_DEBUG"):
            raise
        return _fail(
            f"internal error: {type(exc).__name__}: {exc} "
            "(set TMUX_GUARDIAN_DEBUG=1 for a traceback)",
            1,
        )


def _expected_failures() -> tuple[type[Exception], ...]:
    from guardian.errors import TmuxError
    from guardian.watcher import WatcherBusyError
    from recovery.files import StoreWriteError
    from recovery.store import StoreBusyError, UntrustedStoreError

    return (
        TmuxError,
        StoreWriteError,
        StoreBusyError,
        UntrustedStoreError,
        WatcherBusyError,
        OSError,
    )


def _fail(message: str, code: int) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return code


def dispatch(args: argparse.Namespace) -> int:
    from guardian import commands
    from guardian.engine import Engine, resolve_servers

    config_path = args.config or default_config_path()
    settings = load_settings(config_path, required=args.config is not None)
    state_dir = args.state_dir or default_state_dir()
    servers = resolve_servers(args.servers or [], settings)
    engine = Engine(settings=settings, state_dir=state_dir, servers=servers)
    explicit = bool(args.servers)
    name = args.command or "tui"
    if name == "tui":
        from tui.app import run_app  # lazy: the headless paths never load Textual

        return run_app(engine)
    handler = getattr(commands, f"cmd_{name.replace('-', '_')}")
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


if __name__ == "__main__":
    sys.exit(main())
