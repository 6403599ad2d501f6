"""The checkpoint store as a person sees it: `checkpoints` lists them, `verify` checks every
one and moves bad files to quarantine."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from guardian.cli.output import age, emit_json, err, say
from guardian.operations.engine import Engine
from recovery.checkpoint import CheckpointError, NewerCheckpointError
from recovery.may_run import Trust
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
            found = store.load_verified(entry)
        except CheckpointError as exc:
            row["error"] = str(exc)
        else:
            checkpoint = found.checkpoint
            row.update(
                session=checkpoint.session.name,
                verified=True,
                trust=found.trust.value,
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
        say("no checkpoints")
        return 0
    for row in rows:
        when = age(datetime.fromisoformat(row["created_at"]))
        if row["verified"]:
            whose = "" if row["trust"] == "own" else f"  ({row['trust']}: commands held)"
            line = f"{row['id']}  {row['session']}  {row['windows']}w/{row['panes']}p  {when}"
            say(line + whose)
        else:
            say(f"{row['id']}  BAD ({row['error']})  {when}")
    return 0


def cmd_verify(engine: Engine, args: argparse.Namespace, *, explicit_server: bool) -> int:
    """Check every checksum and signature; damaged files go to quarantine, files of a
    newer schema are named and left alone, foreign ones are counted (their commands are
    held on restore). Exit 1 when any file cannot be used as it is."""
    store = engine.store
    entries = _listed_entries(engine, explicit_server, None)
    bad: list[dict[str, Any]] = []
    foreign = 0
    for entry in entries:
        try:
            found = store.load_verified(entry)
        except NewerCheckpointError as exc:
            bad.append({"id": entry.id, "path": str(entry.path), "reason": str(exc)})
            continue
        except CheckpointError as exc:
            moved = store.quarantine(entry, str(exc)).moved_to
            reason = {"reason": str(exc), "moved_to": str(moved) if moved else None}
            bad.append({"id": entry.id, "path": str(entry.path), **reason})
            continue
        foreign += found.trust is not Trust.OWN
    ok = len(entries) - len(bad)
    if args.json:
        emit_json({"checked": len(entries), "ok": ok, "foreign": foreign, "bad": bad})
    else:
        for item in bad:
            where = f" (moved to {item['moved_to']})" if item.get("moved_to") else ""
            err(f"BAD {item['path']}: {item['reason']}{where}")
        held = f", {foreign} not yours (commands held)" if foreign else ""
        say(f"{len(entries)} checked, {ok} ok{held}, {len(bad)} bad")
    return 1 if bad else 0
