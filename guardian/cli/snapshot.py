"""`snapshot`: checkpoint sessions now, with one line per session and a summary."""

from __future__ import annotations

import argparse
import time
from typing import Any

from guardian.cli.output import emit_json, err, say
from guardian.errors import TmuxError
from guardian.operations.engine import Engine
from guardian.operations.snapshot import SnapshotReport, take_snapshot


def cmd_snapshot(engine: Engine, args: argparse.Namespace, **_: Any) -> int:
    reports: list[SnapshotReport] = []
    errors: list[str] = []
    started = time.perf_counter()
    for target in engine.servers:
        try:
            report = take_snapshot(engine, target, args.sessions or None, force=args.force)
        except TmuxError as exc:
            errors.append(f"{target.label}: nothing saved: {exc}")
            continue
        if not report.sessions:
            errors.append(f"{target.label}: the server has no sessions; nothing saved")
        reports.append(report)
    items = [s for r in reports for s in r.sessions]
    failed = bool(errors) or any(r.failed for r in reports)
    if args.json:
        emit_json(
            {
                "snapshots": [
                    {
                        "server": s.server,
                        "session": s.session,
                        "status": s.status,
                        "checkpoint_id": s.checkpoint_id,
                        "windows": s.windows,
                        "panes": s.panes,
                    }
                    for s in items
                ],
                "errors": errors,
                "notes": [n for r in reports for n in r.notes],
            }
        )
    else:
        for s in items:
            if s.status == "saved":
                say(
                    f"saved     {s.session}  ({s.windows} windows, {s.panes} panes) "
                    f"-> {s.checkpoint_id}"
                )
            elif s.status == "unchanged":
                say(f"unchanged {s.session}  (checkpoint {s.checkpoint_id} is current)")
            elif s.status == "ignored":
                say(f"ignored   {s.session}  (matches an ignore pattern)")
            else:
                err(f"no session named '{s.session}' on {s.server}")
        for note in (n for r in reports for n in r.notes):
            err(note)
        for error in errors:
            err(error)
        saved = sum(1 for s in items if s.status == "saved")
        if items:
            say(
                f"{saved} saved, {sum(1 for s in items if s.status == 'unchanged')} unchanged "
                f"in {time.perf_counter() - started:.2f}s"
            )
    return 1 if failed else 0
