"""The CLI's commands: each turns an engine call into text or `--json` and an exit code."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guardian.engine import Engine
from guardian.errors import TmuxError
from recovery.checkpoint import CheckpointError

if TYPE_CHECKING:
    from guardian.snapshot import SnapshotReport
    from recovery.store import CheckpointEntry

# Each command imports what it needs when it runs: `snapshot` from cron or a key binding
# must not pay for loading the monitor, the UI service or the migration code.


def _emit_json(data: dict[str, Any]) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _err(message: str) -> None:
    print(f"tmux-guardian: {message}", file=sys.stderr)


def age(created: datetime, now: datetime | None = None) -> str:
    seconds = max(0.0, ((now or datetime.now(UTC)) - created).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return f"{int(seconds)}s ago"


# -- status ---------------------------------------------------------------------------------


def cmd_status(engine: Engine, args: argparse.Namespace, **_: Any) -> int:
    from guardian.service import read_status

    report = read_status(engine)
    rows, servers = report.sessions, report.servers
    if args.json:
        _emit_json({"sessions": rows, "servers": servers})
        return 0
    for server in servers:
        if server["watcher_pid"]:
            print(
                f"{server['server']}: watcher pid {server['watcher_pid']}, "
                f"last poll {server['last_poll_age']:.1f}s ago"
            )
        if not server["running"]:
            print(f"{server['server']}: {server['message']}")
    if not rows:
        print("no sessions")
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
        print(
            f"{where}{r['name']:<{width}}  {health:<12}  "
            f"{'attached' if r['attached'] else 'detached':<8}  "
            f"{r['windows']}w/{r['panes']}p  checkpoint {last}"
        )
        for line in r["evidence"]:
            print(f"    {line}")
        if r["given_up"]:
            print(f"    given up: {r['given_up']}")
    return 0


# -- snapshot -------------------------------------------------------------------------------


def cmd_snapshot(engine: Engine, args: argparse.Namespace, **_: Any) -> int:
    from guardian.snapshot import take_snapshot

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
        _emit_json(
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
                print(
                    f"saved     {s.session}  ({s.windows} windows, {s.panes} panes) "
                    f"-> {s.checkpoint_id}"
                )
            elif s.status == "unchanged":
                print(f"unchanged {s.session}  (checkpoint {s.checkpoint_id} is current)")
            elif s.status == "ignored":
                print(f"ignored   {s.session}  (matches an ignore pattern)")
            else:
                _err(f"no session named '{s.session}' on {s.server}")
        for note in (n for r in reports for n in r.notes):
            _err(note)
        for error in errors:
            _err(error)
        saved = sum(1 for s in items if s.status == "saved")
        if items:
            print(
                f"{saved} saved, {sum(1 for s in items if s.status == 'unchanged')} unchanged "
                f"in {time.perf_counter() - started:.2f}s"
            )
    return 1 if failed else 0


# -- restore --------------------------------------------------------------------------------


def cmd_restore(engine: Engine, args: argparse.Namespace, *, explicit_server: bool) -> int:
    from guardian.cli import UsageError
    from guardian.restore import RestoreUsageError, restore

    try:
        report = restore(
            engine,
            args.sessions or None,
            checkpoint_id=args.checkpoint,
            dry_run=args.dry_run,
            replace=args.replace,
            as_name=args.as_name,
            explicit_server=explicit_server,
        )
    except RestoreUsageError as exc:
        raise UsageError(str(exc)) from None
    if not args.dry_run:
        from guardian.actions import journal_restore

        journal_restore(engine, report)
    if args.json:
        _emit_json(
            {
                "items": [
                    {
                        "server": i.server,
                        "session": i.session,
                        "status": i.status,
                        "checkpoint_id": i.checkpoint_id,
                        "message": i.message,
                        "warnings": i.warnings,
                        "plan": i.plan,
                    }
                    for i in report.items
                ],
                "notes": report.notes,
                "restored": report.count("restored"),
                "skipped": report.count("skipped"),
                "failed": report.count("failed"),
            }
        )
        return 1 if report.failed else 0
    for note in report.notes:
        (print if note == "nothing to restore" else _err)(note)
    for item in report.items:
        if item.status == "planned":
            print("would restore " + "\n".join(item.plan))
            continue
        line = f"{item.status:<9} {item.session}  {item.message}".rstrip()
        (print if item.status != "failed" else _err)(line)
        for warning in item.warnings:
            print(f"          warning: {warning}")
    if report.items and not args.dry_run:
        print(
            f"restored {report.count('restored')}, skipped {report.count('skipped')}, "
            f"failed {report.count('failed')}"
        )
    return 1 if report.failed else 0


# -- checkpoints and verify -----------------------------------------------------------------


def _listed_entries(engine: Engine, explicit_server: bool, session: str | None) -> list[Any]:
    store = engine.store
    if explicit_server:
        entries: list[CheckpointEntry] = []
        for target in engine.servers:
            entries += store.entries(target.socket_path, session)
        return entries
    entries = store.entries()
    if session is not None:
        from recovery.store import session_key

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
        _emit_json({"checkpoints": rows})
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
        _emit_json({"checked": len(entries), "ok": len(entries) - len(bad), "bad": bad})
    else:
        for item in bad:
            _err(f"BAD {item['path']}: {item['reason']} (moved to {item['moved_to']})")
        print(f"{len(entries)} checked, {len(entries) - len(bad)} ok, {len(bad)} bad")
    return 1 if bad else 0


# -- watch, history, forget, recover ----------------------------------------------------------


def cmd_watch(engine: Engine, args: argparse.Namespace, **_: Any) -> int:
    from guardian.watcher import run_watch

    return run_watch(
        engine,
        interval=args.interval,
        once=args.once,
        recover=not args.no_recover,
        quiet=args.quiet,
        verbose=args.verbose,
    )


def cmd_history(engine: Engine, args: argparse.Namespace, **_: Any) -> int:
    from recovery.journal import Journal

    entries = Journal(engine.state_dir).read(limit=args.limit, session=args.session)
    if args.json:
        _emit_json({"entries": [json.loads(e.model_dump_json(exclude_none=True)) for e in entries]})
        return 0
    if not entries:
        print("no recovery history")
    for e in entries:
        when = e.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        what = e.action or e.health or e.kind
        line = f"{when}  {e.session}  {what}"
        if e.outcome:
            line += f"  -> {e.outcome}"
        if e.duration_ms is not None:
            line += f" ({e.duration_ms:.0f} ms)"
        print(line)
        for evidence in e.evidence:
            print(f"    {evidence}")
    return 0


def _one_server(engine: Engine, action: str) -> Any:
    if len(engine.servers) != 1:
        from guardian.cli import UsageError

        raise UsageError(f"{action} needs one server: name it with -L or -S")
    return engine.servers[0]


def cmd_forget(engine: Engine, args: argparse.Namespace, **_: Any) -> int:
    from guardian.actions import forget_session
    from guardian.tmux import vis_session_name

    target = _one_server(engine, "forget")
    forget_session(engine, target.socket_path, vis_session_name(args.session))
    print(f"forgot '{args.session}': it will not be recovered or restored any more")
    return 0


def cmd_recover(engine: Engine, args: argparse.Namespace, **_: Any) -> int:
    from guardian.actions import reset_session
    from guardian.monitor import GuardOptions, ServerGuard
    from guardian.tmux import vis_session_name
    from guardian.watcher import watcher_pid

    target = _one_server(engine, "recover")
    name = vis_session_name(args.session)
    running = watcher_pid(engine.state_dir, target)
    reset_session(engine, target.socket_path, name, ask_watcher=running is not None)
    if running:
        print(f"reset '{args.session}'; the watcher (pid {running}) recovers it at its next poll")
        return 0
    guard = ServerGuard(
        engine, target, GuardOptions(prepare=False, checkpoints=False, manifest=False, only=name)
    )
    verdicts = [v for v in guard.poll() if v.session == name]
    if not verdicts:
        print(f"no session '{args.session}' on {target.label} and no checkpoint of it")
        return 1
    verdict = verdicts[0]
    if not verdict.is_failure:
        print(f"'{args.session}' is {verdict.health.value}: nothing to recover")
        return 0
    after = [v for v in guard.poll() if v.session == name]
    health = after[0].health.value if after else "gone"
    print(
        f"'{args.session}' was {verdict.health.value} ({'; '.join(verdict.evidence)}); now {health}"
    )
    return 0 if after and not after[0].is_failure else 1


BLOCK_START = "# >>> tmux-guardian >>>"
BLOCK_END = "# <<< tmux-guardian <<<"


def tmux_conf_lines(engine: Engine, explicit_server: bool, *, watch: bool = False) -> list[str]:
    """tmux.conf lines: a popup key for the UI, a key for a snapshot, optionally the watcher."""
    import shlex

    from guardian.systemd import program_path

    program = shlex.quote(program_path())
    if explicit_server:
        where = " ".join(f"-S {shlex.quote(t.socket_path)}" for t in engine.servers)
    else:
        where = '-S "#{socket_path}"'  # the server the key was pressed in
    command = f"{program} {where}"
    lines = [
        BLOCK_START,
        "# prefix + g opens the tmux-guardian UI in a popup; prefix + G snapshots now",
        f"bind-key g display-popup -E -w 90% -h 90% -T ' tmux-guardian ' '{command}'",
        f"bind-key G run-shell -b '{command} snapshot --json >/dev/null && "
        'tmux display-message "tmux-guardian: snapshot saved"\'',
    ]
    if watch:
        lines += [
            "# start the watcher with the server (a second one exits: one watcher per server)",
            f"run-shell -b '{command} watch --quiet'",
        ]
    return [*lines, BLOCK_END]


def install_block(text: str, block: list[str]) -> str:
    """`text` with our block replaced (or appended once): installing twice changes nothing."""
    lines = text.splitlines()
    if BLOCK_START in lines and BLOCK_END in lines[lines.index(BLOCK_START) :]:
        start = lines.index(BLOCK_START)
        end = lines.index(BLOCK_END, start)
        lines[start : end + 1] = block
    else:
        if lines and lines[-1].strip():
            lines.append("")
        lines += block
    return "\n".join(lines) + "\n"


def cmd_tmux_conf(engine: Engine, args: argparse.Namespace, *, explicit_server: bool) -> int:
    from pathlib import Path

    from recovery.files import atomic_write

    block = tmux_conf_lines(engine, explicit_server, watch=args.watch)
    if args.install is None:
        print("\n".join(block))
        return 0
    path = Path(args.install).expanduser()
    try:
        before = path.read_text() if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        _err(f"cannot read {path}: {exc}")
        return 1
    after = install_block(before, block)
    if after == before:
        print(f"{path}: already up to date")
        return 0
    atomic_write(path, after.encode())
    print(
        f"{path}: tmux-guardian lines {'updated' if BLOCK_START in before else 'added'}; "
        f"reload with `tmux source-file {path}`"
    )
    return 0


def cmd_service(engine: Engine, args: argparse.Namespace, **_: Any) -> int:
    from guardian import systemd

    systemctl = systemd.Systemctl.find()
    if args.action == "install":
        code, lines = systemd.install(args.forwarded, systemctl)
    elif args.action == "uninstall":
        code, lines = systemd.uninstall(systemctl)
    else:
        code, lines = systemd.status(systemctl)
    print("\n".join(lines))
    return code


# -- migration ------------------------------------------------------------------------------


def _resurrect_default() -> Path:
    for directory in (
        Path.home() / ".tmux" / "resurrect",
        Path.home() / ".local" / "share" / "tmux" / "resurrect",
    ):
        if (directory / "last").exists():
            return directory / "last"
    return Path.home() / ".local" / "share" / "tmux" / "resurrect" / "last"


def cmd_import(engine: Engine, args: argparse.Namespace, **_: Any) -> int:
    from pathlib import Path

    from recovery.importers import ImportError_, parse_resurrect, parse_tmuxp
    from recovery.models import ServerInfo

    target = _one_server(engine, "import")
    if args.kind == "tmuxp" and not args.file:
        from guardian.cli import UsageError

        raise UsageError("import tmuxp needs the workspace FILE")
    path = Path(args.file).expanduser() if args.file else _resurrect_default()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        _err(f"{path}: no such file")
        return 1
    except (OSError, UnicodeDecodeError) as exc:
        _err(f"{path}: cannot read ({exc})")
        return 1
    server = ServerInfo(socket_path=target.socket_path)
    now = datetime.now(UTC)
    try:
        if args.kind == "resurrect":
            checkpoints = parse_resurrect(text, server, now)
        else:
            checkpoints = [parse_tmuxp(text, server, now, str(Path.home()))]
    except ImportError_ as exc:
        _err(f"{path}: {exc}; nothing imported")
        return 1
    store = engine.store
    with store.locked():
        results = store.write_many(checkpoints)
        failures = [r for r in results if not hasattr(r, "path")]
        if failures:
            for result in results:  # all or nothing
                if hasattr(result, "path"):
                    result.path.unlink(missing_ok=True)
            _err(f"{failures[0]}; nothing imported")
            return 1
        manifest = store.read_manifest(target.socket_path)
        names = list(manifest.sessions) if manifest else []
        names += [c.session.name for c in checkpoints if c.session.name not in names]
        store.write_manifest(target.socket_path, names, now)
    for checkpoint in checkpoints:
        print(
            f"imported '{checkpoint.session.name}' ({len(checkpoint.session.windows)} windows, "
            f"{checkpoint.session.pane_count} panes) -> {checkpoint.id}"
        )
    print(f"restore with: tmux-guardian restore {' '.join(shlex_names(checkpoints))}")
    return 0


def shlex_names(checkpoints: list[Any]) -> list[str]:
    import shlex

    return [shlex.quote(c.session.name) for c in checkpoints]


def cmd_export(engine: Engine, args: argparse.Namespace, **_: Any) -> int:
    from pathlib import Path

    import yaml

    from guardian.tmux import vis_session_name
    from recovery.importers import export_tmuxp
    from recovery.store import describe_bad

    target = _one_server(engine, "export")
    checkpoint = engine.store.newest_verified(
        target.socket_path,
        vis_session_name(args.session),
        on_bad=lambda bad: _err(describe_bad(bad)),
    )
    if checkpoint is None:
        _err(f"no checkpoint of '{args.session}' on {target.label}")
        return 1
    text = yaml.safe_dump(export_tmuxp(checkpoint), sort_keys=False, allow_unicode=True)
    if args.output:
        from recovery.files import atomic_write

        atomic_write(Path(args.output).expanduser(), text.encode())
        print(f"wrote {args.output} from checkpoint {checkpoint.id}")
    else:
        sys.stdout.write(text)
    return 0
