"""The checkpoint store as a person sees it: `checkpoints` lists them, `verify` checks every
one and moves bad files to quarantine."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from guardian.cli.output import age, emit_json, err
from guardian.operations.engine import Engine
from recovery.checkpoint import CheckpointError
from recovery.store import CheckpointEntry, session_key


def _listed_entries(
    engine: Engine, explicit_server: bool, session: str | None
) -> list[CheckpointEntry]:
    store = engine.store
    if explicit_server:
        entries: list[CheckpointEntry] = []
        for target in engine.servers:
            entries += store.entries(target.socket_path, session)
        return entries
    entries = store.entries()
    if session is not None:
        entries = [e for e in entries if e.session_key == session_key(session)]
    return entries


def cmd_checkpoints(engine: Engine, args: argparse.Namespace, *, explicit_server: bool) -> int:
    store = engine.store
    rows = []
    for entry in _listed_entries(engine, explicit_server, args.session):
        row: dict[str, Any] = {
            "id": entry.id,
            "session": None,
            "created_at": entry.created_at.isoformat(),
            "verified": False,
            "path": str(entry.path),
        }
        try:
            checkpoint = store.load(entry)
        except CheckpointError as exc:
            row["error"] = str(exc)
        else:
            row.update(
                session=checkpoint.session.name,
                verified=True,
                server=checkpoint.server.socket_path,
                windows=len(checkpoint.session.windows),
                panes=checkpoint.session.pane_count,
                reason=checkpoint.reason,
            )
        rows.append(row)
    if args.json:
        emit_json({"checkpoints": rows})
        return 0
    if not rows:
        print("no checkpoints")
        return 0
    for row in rows:
        when = age(datetime.fromisoformat(row["created_at"]))
        if row["verified"]:
            print(f"{row['id']}  {row['session']}  {row['windows']}w/{row['panes']}p  {when}")
        else:
            print(f"{row['id']}  BAD ({row['error']})  {when}")
    return 0


def cmd_verify(engine: Engine, args: argparse.Namespace, *, explicit_server: bool) -> int:
    store = engine.store
    entries = _listed_entries(engine, explicit_server, None)
    bad = []
    for entry in entries:
        try:
            store.load(entry)
        except CheckpointError as exc:
            moved = store.quarantine(entry, str(exc))
            bad.append(
                {
                    "id": entry.id,
                    "path": str(entry.path),
                    "reason": str(exc),
                    "moved_to": str(moved.moved_to) if moved.moved_to else None,
                }
            )
    if args.json:
        emit_json({"checked": len(entries), "ok": len(entries) - len(bad), "bad": bad})
    else:
        for item in bad:
            err(f"BAD {item['path']}: {item['reason']} (moved to {item['moved_to']})")
        print(f"{len(entries)} checked, {len(entries) - len(bad)} ok, {len(bad)} bad")
    return 1 if bad else 0
