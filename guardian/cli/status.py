"""Reading what the guardian knows: `status` (every session's health) and `history`
(the recovery journal)."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from guardian.cli.output import age, emit_json, say
from guardian.operations.engine import Engine


def cmd_status(engine: Engine, args: argparse.Namespace, **_: Any) -> int:
    from guardian.watch.status import read_status

    report = read_status(engine)
    rows, servers = report.sessions, report.servers
    if args.json:
        emit_json({"sessions": rows, "servers": servers})
        return 0
    for server in servers:
        if server["watcher_pid"]:
            say(
                f"{server['server']}: watcher pid {server['watcher_pid']}, "
                f"last poll {server['last_poll_age']:.1f}s ago"
            )
        if not server["running"]:
            say(f"{server['server']}: {server['message']}")
    if not rows:
        say("no sessions")
        return 0
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        last = (
            age(datetime.fromisoformat(r["last_checkpoint_at"]))
            if r["last_checkpoint_at"]
            else "never"
        )
        where = f"{r['server']}:" if len(engine.servers) > 1 else ""
        health = r["health"] + (" (paused)" if r["paused"] else "")
        health += " (given up)" if r["given_up"] else ""
        say(
            f"{where}{r['name']:<{width}}  {health:<12}  "
            f"{'attached' if r['attached'] else 'detached':<8}  "
            f"{r['windows']}w/{r['panes']}p  checkpoint {last}"
        )
        for line in r["evidence"]:
            say(f"    {line}")
        if r["given_up"]:
            say(f"    given up: {r['given_up']}")
    return 0


def cmd_history(engine: Engine, args: argparse.Namespace, **_: Any) -> int:
    from recovery.journal import Journal

    entries = Journal(engine.state_dir).read(limit=args.limit, session=args.session)
    if args.json:
        emit_json({"entries": [json.loads(e.model_dump_json(exclude_none=True)) for e in entries]})
        return 0
    if not entries:
        say("no recovery history")
    for e in entries:
        when = e.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        what = e.action or e.health or e.kind
        line = f"{when}  {e.session}  {what}"
        if e.outcome:
            line += f"  -> {e.outcome}"
        if e.duration_ms is not None:
            line += f" ({e.duration_ms:.0f} ms)"
        say(line)
        for evidence in e.evidence:
            say(f"    {evidence}")
    return 0
