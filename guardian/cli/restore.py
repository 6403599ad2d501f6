"""`restore`: rebuild sessions from checkpoints, one line per session and a summary."""

from __future__ import annotations

import argparse

from guardian.cli.output import emit_json, err, say
from guardian.errors import RestoreUsageError
from guardian.operations.engine import Engine
from guardian.operations.restore import RestoreReport, restore
from guardian.operations.sessions import journal_restore
from recovery.programs import MODES, Mode


def cmd_restore(engine: Engine, args: argparse.Namespace, *, explicit_server: bool) -> int:
    report = restore(
        engine,
        args.sessions or None,
        checkpoint_id=args.checkpoint,
        dry_run=args.dry_run,
        replace=args.replace,
        as_name=args.as_name,
        explicit_server=explicit_server,
        choices=pane_choices(args),
    )
    if not args.dry_run:
        journal_restore(engine, report)
    if args.json:
        emit_json(report_json(report))
    else:
        print_report(report, dry_run=args.dry_run)
    return 1 if report.failed else 0


def pane_choices(args: argparse.Namespace) -> dict[str, Mode]:
    """`--run/--hold/--shell PANE...` as PANE -> mode; one pane, one choice."""
    choices: dict[str, Mode] = {}
    for mode in MODES:
        for pane in getattr(args, f"choose_{mode}", []):
            if choices.get(pane, mode) != mode:
                raise RestoreUsageError(f"pane {pane} is given both --{choices[pane]} and --{mode}")
            choices[pane] = mode
    return choices


def report_json(report: RestoreReport) -> dict[str, object]:
    return {
        "items": [
            {
                "server": i.server,
                "session": i.session,
                "status": i.status,
                "checkpoint_id": i.checkpoint_id,
                "message": i.message,
                "warnings": i.warnings,
                "plan": i.plan,
                "held": i.held,
                "survivors": i.survivors,
                "notices": i.notices,
            }
            for i in report.items
        ],
        "notes": report.notes,
        "restored": report.count("restored"),
        "skipped": report.count("skipped"),
        "failed": report.count("failed"),
    }


def print_report(report: RestoreReport, *, dry_run: bool) -> None:
    for note in report.notes:
        (say if note == "nothing to restore" else err)(note)
    for item in report.items:
        if item.status == "planned":
            for number, line in enumerate(item.plan):
                print(("would restore " if number == 0 else "") + line)  # already visible
            continue
        line = f"{item.status:<9} {item.session}  {item.message}".rstrip()
        (say if item.status != "failed" else err)(line)
        for line in item.survivors:
            say(f"          survived: {line}")
        for line in item.held:
            say(f"          held: {line}")
        for line in item.notices:
            say(f"          note: {line}")
        for warning in item.warnings:
            say(f"          warning: {warning}")
    if report.items and not dry_run:
        say(
            f"restored {report.count('restored')}, skipped {report.count('skipped')}, "
            f"failed {report.count('failed')}"
        )
