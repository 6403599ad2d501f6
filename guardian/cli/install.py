"""Living with it: `tmux-conf` (the lines for tmux.conf) and `service` (the systemd unit)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from guardian.cli.output import err, say
from guardian.install import systemd
from guardian.install.tmux_conf import BLOCK_START, install_block, tmux_conf_lines, write_through
from guardian.operations.engine import Engine


def cmd_tmux_conf(engine: Engine, args: argparse.Namespace, **_: Any) -> int:
    block = tmux_conf_lines(engine.servers, args.forwarded, watch=args.watch)
    if args.install is None:
        print("\n".join(block))  # the lines were checked: no control character in them
        return 0
    path = Path(args.install).expanduser()
    try:
        before = path.read_text() if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        err(f"cannot read {path}: {exc}")
        return 1
    after = install_block(before, block)
    if after == before:
        say(f"{path}: already up to date")
        return 0
    written = write_through(path, after)
    via = f" (through the link, in {written})" if written != path.absolute() else ""
    say(
        f"{path}: tmux-guardian lines {'updated' if BLOCK_START in before else 'added'}{via}; "
        f"reload with `tmux source-file {path}`"
    )
    return 0


def cmd_service(engine: Engine, args: argparse.Namespace, **_: Any) -> int:
    systemctl = systemd.Systemctl.find()
    if args.action == "install":
        code, lines = systemd.install(args.forwarded, systemctl)
    elif args.action == "uninstall":
        code, lines = systemd.uninstall(systemctl)
    else:
        code, lines = systemd.status(systemctl)
    for line in lines:
        say(line)
    return code


def cmd_uninstall(engine: Engine, args: argparse.Namespace, **_: Any) -> int:
    """The unit, the tmux.conf block, our hook/option/keys in each running guarded server;
    checkpoints stay unless `--purge`."""
    from guardian.install import uninstall
    from guardian.watch.locks import watcher_pid

    done = uninstall.Uninstalled()
    uninstall.remove_unit(done)
    files = [Path("~/.tmux.conf"), Path("~/.config/tmux/tmux.conf")]
    files += [Path(f) for f in args.tmux_conf]
    for path in dict.fromkeys(f.expanduser() for f in files):
        uninstall.unconfigure_file(path, done)
    for target in engine.servers:
        pid = watcher_pid(engine.state_dir, target)
        if pid is not None:
            done.say(f"{target.label}: a watcher (pid {pid}) still guards it: stop it first")
            done.failed = True
            continue
        uninstall.unprepare_server(engine.adapter(target), engine.state_dir, done)
    if args.purge:
        uninstall.purge(engine.state_dir, done)
    else:
        done.say(f"checkpoints kept in {engine.state_dir} (--purge removes them)")
    for line in done.lines:
        say(line)
    return 1 if done.failed else 0
