"""Guarding: `watch` (the headless watcher), `forget` a session, `recover` one now."""

from __future__ import annotations

import argparse
from typing import Any

from guardian.cli.output import say
from guardian.operations.engine import Engine


def cmd_watch(engine: Engine, args: argparse.Namespace, **_: Any) -> int:
    from guardian.watch.watcher import run_watch

    return run_watch(
        engine,
        interval=args.interval,
        once=args.once,
        recover=not args.no_recover,
        quiet=args.quiet,
        verbose=args.verbose,
        take_over=args.take_over,
    )


def cmd_forget(engine: Engine, args: argparse.Namespace, **_: Any) -> int:
    from guardian.operations.sessions import forget_session
    from guardian.tmux.names import vis_session_name

    target = engine.one_server("forget")
    forget_session(engine, target.socket_path, vis_session_name(args.session))
    say(f"forgot '{args.session}': it will not be recovered or restored any more")
    return 0


def cmd_recover(engine: Engine, args: argparse.Namespace, **_: Any) -> int:
    from guardian.operations.sessions import reset_session
    from guardian.tmux.names import vis_session_name
    from guardian.watch.guard import GuardOptions, ServerGuard
    from guardian.watch.locks import watcher_pid

    target = engine.one_server("recover")
    name = vis_session_name(args.session)
    running = watcher_pid(engine.state_dir, target)
    reset_session(engine, target.socket_path, name, ask_watcher=running is not None)
    if running:
        say(f"reset '{args.session}'; the watcher (pid {running}) recovers it at its next poll")
        return 0
    guard = ServerGuard(
        engine, target, GuardOptions(prepare=False, checkpoints=False, manifest=False, only=name)
    )
    verdicts = [v for v in guard.poll() if v.session == name]
    if not verdicts:
        say(f"no session '{args.session}' on {target.label} and no checkpoint of it")
        return 1
    verdict = verdicts[0]
    if not verdict.is_failure:
        say(f"'{args.session}' is {verdict.health.value}: nothing to recover")
        return 0
    after = [v for v in guard.poll() if v.session == name]
    health = after[0].health.value if after else "gone"
    say(
        f"'{args.session}' was {verdict.health.value} ({'; '.join(verdict.evidence)}); now {health}"
    )
    return 0 if after and not after[0].is_failure else 1
