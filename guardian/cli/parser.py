"""The argument parser: `tmux-guardian [-L NAME | -S PATH]... [--state-dir DIR]
[--config FILE] COMMAND ...`, global options accepted before or after the command."""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path
from typing import Any, NoReturn

from guardian.cli.version import PROG
from recovery.may_run.text import visible
from recovery.store.keys import parse_checkpoint_id


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
    for flag, metavar, what in (("-L", "NAME", "name"), ("-S", "PATH", "path")):
        group.add_argument(
            flag,
            metavar=metavar,
            action=_ServerAction,
            dest="servers",
            default=default,
            help=f"guard the server with this socket {what} (repeatable)",
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


def bounded(kind: type[float] | type[int], low: float, high: float) -> Any:
    """An argument type: a finite number from `low` to `high` (the error says which)."""

    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g} (got {text})")
        return value

    return parse


def session_name(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("a session name cannot be empty")
    return text


def checkpoint_id(text: str) -> str:
    if parse_checkpoint_id(text) is None:
        raise argparse.ArgumentTypeError(
            f"'{visible(text)}' is not a checkpoint id (like 20261123T041221.123456Z-ab12)"
        )
    return text


def pane_target(text: str) -> str:
    """`[SESSION:]WINDOW.PANE` or `[SESSION:]all`: the panes a restore choice is for."""
    _session, _, pane = text.rpartition(":")
    if pane != "all" and not re.fullmatch(r"[0-9]{1,6}\.[0-9]{1,6}", pane):
        raise argparse.ArgumentTypeError(
            f"'{visible(text)}' is not a pane: give WINDOW.PANE (like 1.0), SESSION:WINDOW.PANE "
            "or all"
        )
    return text


class _Commands:
    """Adds subcommands that all accept the global options too."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.common = _Parser(add_help=False)
        _global_options(self.common, suppress=True)
        self.sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(self, name: str, help_text: str, *, json: bool = False) -> argparse.ArgumentParser:
        command: argparse.ArgumentParser = self.sub.add_parser(
            name, help=help_text, description=help_text, parents=[self.common]
        )
        if json:
            command.add_argument("--json", action="store_true", help="machine-readable output")
        return command


def build_parser(version: str) -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Keeps tmux sessions alive: health, recovery, checksummed checkpoints.",
    )
    _global_options(parser, suppress=False)
    parser.add_argument("--version", action="version", version=f"{PROG} {version}")
    commands = _Commands(parser)
    commands.add("tui", "open the terminal UI (the default)")
    _checkpoint_commands(commands)
    _guarding_commands(commands)
    _living_commands(commands)
    return parser


def _checkpoint_commands(commands: _Commands) -> None:
    commands.add("status", "every guarded session, its health and last checkpoint", json=True)
    snap = commands.add(
        "snapshot", "checkpoint sessions now (all guarded sessions when none named)", json=True
    )
    snap.add_argument("sessions", nargs="*", metavar="SESSION", type=session_name)
    snap.add_argument("--force", action="store_true", help="write even if nothing changed")

    rest = commands.add(
        "restore", "rebuild sessions from their newest checkpoint that verifies", json=True
    )
    rest.add_argument("sessions", nargs="*", metavar="SESSION", type=session_name)
    rest.add_argument(
        "--checkpoint", metavar="ID", type=checkpoint_id, help="restore exactly this checkpoint"
    )
    rest.add_argument("--dry-run", action="store_true", help="show the plan, create nothing")
    rest.add_argument("--replace", action="store_true", help="replace a session of that name")
    rest.add_argument(
        "--as", dest="as_name", metavar="NAME", type=session_name, help="restore under another name"
    )
    for mode, what in (
        ("run", "its program runs (if the rule lets it run)"),
        ("hold", "its command is typed at the prompt, Enter runs it"),
        ("shell", "a shell only"),
    ):
        rest.add_argument(
            f"--{mode}",
            dest=f"choose_{mode}",
            action="append",
            default=[],
            metavar="PANE",
            type=pane_target,
            help=f"[SESSION:]WINDOW.PANE or all (repeatable): {what}",
        )

    cps = commands.add("checkpoints", "list checkpoints, newest first", json=True)
    cps.add_argument("session", nargs="?", metavar="SESSION")
    commands.add(
        "verify", "verify every checkpoint's checksum; bad files go to quarantine/", json=True
    )


def _guarding_commands(commands: _Commands) -> None:
    watch = commands.add("watch", "guard sessions in the background: classify, recover, checkpoint")
    watch.add_argument(
        "--interval", type=bounded(float, 0.1, 3600), metavar="S", help="seconds per poll"
    )
    watch.add_argument("--once", action="store_true", help="one poll, then exit")
    watch.add_argument("--no-recover", action="store_true", help="only classify and journal")
    watch.add_argument("--quiet", action="store_true", help="log to the file only")
    watch.add_argument("--verbose", action="store_true", help="log every poll's details")
    watch.add_argument(
        "--take-over",
        action="store_true",
        help="a tmux-guardian UI that guards the server hands its guard over to this watcher",
    )

    hist = commands.add(
        "history", "the recovery journal: verdicts and actions, oldest first", json=True
    )
    hist.add_argument("session", nargs="?", metavar="SESSION")
    hist.add_argument(
        "--limit", type=bounded(int, 1, 100_000), default=50, metavar="N", help="last N entries"
    )

    forget = commands.add("forget", "stop guarding a session (never recovered or restored again)")
    forget.add_argument("session", metavar="SESSION", type=session_name)
    recover = commands.add("recover", "reset a given-up session and recover it now")
    recover.add_argument("session", metavar="SESSION", type=session_name)


def _living_commands(commands: _Commands) -> None:
    conf = commands.add(
        "tmux-conf", "print tmux.conf lines: a popup key for the UI, a snapshot key"
    )
    conf.add_argument("--watch", action="store_true", help="also start the watcher with tmux")
    conf.add_argument(
        "--install",
        nargs="?",
        const="~/.tmux.conf",
        metavar="FILE",
        help="write the lines into FILE (default ~/.tmux.conf), once",
    )
    imp = commands.add(
        "import", "take over from tmux-resurrect or tmuxp: their files become checkpoints"
    )
    imp.add_argument("kind", choices=["resurrect", "tmuxp"])
    imp.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="resurrect: default its `last` save; tmuxp: the workspace file",
    )
    imp.add_argument(
        "--trust-commands",
        action="store_true",
        help="vouch for the file's commands: they run when you restore it (read them first)",
    )
    exp = commands.add("export", "write a session's newest checkpoint as a tmuxp workspace")
    exp.add_argument("kind", choices=["tmuxp"])
    exp.add_argument("session", metavar="SESSION")
    exp.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    service = commands.add("service", "a systemd user unit that runs `watch`")
    service.add_argument("action", choices=["install", "uninstall", "status"])
    gone = commands.add(
        "uninstall",
        "take back what tmux-guardian put into tmux and the system (checkpoints stay)",
    )
    gone.add_argument(
        "--tmux-conf",
        action="append",
        default=[],
        metavar="FILE",
        help="also take our lines out of FILE (~/.tmux.conf is always looked at)",
    )
    gone.add_argument(
        "--purge", action="store_true", help="also remove the checkpoints and the signing key"
    )
