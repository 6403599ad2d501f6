"""Rebuild sessions from checkpoints: choose what verifies, plan, build, verify, report.

Never touches a session it does not restore: existing names are skipped unless --replace
(build beside it first, then swap) or --as NAME.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from guardian.engine import Engine
from guardian.errors import (
    ServerAbsentError,
    ServerNotRunningError,
    TmuxError,
)
from guardian.executor import PlanExecutor, session_name_arg
from guardian.probes import process_is_running
from guardian.targets import ServerTarget
from guardian.tmux import vis_session_name
from recovery.checkpoint import Checkpoint, CheckpointError
from recovery.plan import SessionPlan, plan_session
from recovery.store import CheckpointNotFoundError, UntrustedStoreError, describe_bad


class RestoreUsageError(Exception):
    """The request itself is wrong (exit 2)."""


@dataclass
class RestoreItem:
    server: str
    session: str
    status: str  # restored | skipped | failed | planned
    checkpoint_id: str | None = None
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)


@dataclass
class RestoreReport:
    items: list[RestoreItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for item in self.items if item.status == status)

    @property
    def failed(self) -> bool:
        return self.count("failed") > 0


@dataclass
class _Candidate:
    target: ServerTarget
    name: str
    checkpoint: Checkpoint | None
    error: str | None = None


def restore(
    engine: Engine,
    names: list[str] | None = None,
    *,
    checkpoint_id: str | None = None,
    dry_run: bool = False,
    replace: bool = False,
    as_name: str | None = None,
    explicit_server: bool = False,
    names_as_tmux_reports: bool = False,
) -> RestoreReport:
    """`names` as a person types them, or (`names_as_tmux_reports`) as tmux lists them."""
    report = RestoreReport()
    if as_name is not None:
        if checkpoint_id is None and len(names or []) != 1:
            raise RestoreUsageError("--as NAME needs exactly one SESSION (or --checkpoint ID)")
        _check_name(as_name)
        as_name = vis_session_name(as_name)
    if names and not names_as_tmux_reports:
        names = [vis_session_name(n) for n in names]
    if checkpoint_id is not None and names:
        raise RestoreUsageError("give either SESSION names or --checkpoint ID, not both")
    if checkpoint_id is not None:
        candidates = [_named_checkpoint(engine, checkpoint_id, explicit_server, report)]
    else:
        candidates = []
        for target in engine.servers:
            candidates += _candidates(engine, target, names, report)
    if not candidates:
        report.notes.append("nothing to restore")
        return report
    by_server: dict[str, list[_Candidate]] = {}
    for candidate in candidates:
        by_server.setdefault(candidate.target.socket_path, []).append(candidate)
    for group in by_server.values():
        _restore_on_server(engine, group, report, dry_run, replace, as_name)
    return report


def _check_name(name: str) -> None:
    if not name or ":" in name or "." in name:
        raise RestoreUsageError(f"'{name}' is not a valid session name (no ':' or '.')")


def _named_checkpoint(
    engine: Engine, checkpoint_id: str, explicit_server: bool, report: RestoreReport
) -> _Candidate:
    store = engine.store
    try:
        entry = store.find(checkpoint_id)
    except CheckpointNotFoundError as exc:
        raise RestoreUsageError(str(exc)) from None
    try:
        store.check_trusted(entry.path)
        checkpoint = store.load(entry)
    except UntrustedStoreError as exc:
        return _Candidate(engine.servers[0], checkpoint_id, None, str(exc))
    except CheckpointError as exc:
        bad = store.quarantine(entry, str(exc))
        report.notes.append(describe_bad(bad))
        return _Candidate(
            engine.servers[0],
            checkpoint_id,
            None,
            f"checkpoint {checkpoint_id} does not verify ({exc}); not used",
        )
    target = (
        engine.servers[0]
        if explicit_server
        else ServerTarget.at_path(checkpoint.server.socket_path)
    )
    return _Candidate(target, checkpoint.session.name, checkpoint)


def _candidates(
    engine: Engine, target: ServerTarget, names: list[str] | None, report: RestoreReport
) -> list[_Candidate]:
    store = engine.store
    if names:
        wanted = list(dict.fromkeys(names))
    else:
        manifest = store.read_manifest(target.socket_path)
        wanted = (
            list(manifest.sessions)
            if manifest is not None
            else _names_from_dirs(engine, target, report)
        )
        wanted = [name for name in wanted if not engine.is_ignored(name)]
    found = []
    for name in wanted:
        checkpoint, error = _newest_good(engine, target, name, report)
        if checkpoint is None and error is None:
            if names:
                error = f"no checkpoint of session '{name}' on {target.label}"
            else:
                continue
        found.append(_Candidate(target, name, checkpoint, error))
    return found


def _names_from_dirs(engine: Engine, target: ServerTarget, report: RestoreReport) -> list[str]:
    """Without a manifest, every session with a checkpoint on this server."""
    names = []
    for session_dir in engine.store.session_dirs(target.socket_path):
        checkpoint = engine.store.newest_verified_in(
            session_dir, on_bad=lambda bad: report.notes.append(describe_bad(bad))
        )
        if checkpoint is not None:
            names.append(checkpoint.session.name)
    return names


def _newest_good(
    engine: Engine, target: ServerTarget, name: str, report: RestoreReport
) -> tuple[Checkpoint | None, str | None]:
    """Newest checkpoint that verifies; bad ones are quarantined and reported, never used."""
    store = engine.store
    for entry in store.entries(target.socket_path, name):
        try:
            store.check_trusted(entry.path)
        except UntrustedStoreError as exc:
            return None, str(exc)
        try:
            return store.load(entry), None
        except CheckpointError as exc:
            bad = store.quarantine(entry, str(exc))
            report.notes.append(describe_bad(bad) + "; trying an older checkpoint")
    return None, None


def _restore_on_server(
    engine: Engine,
    group: list[_Candidate],
    report: RestoreReport,
    dry_run: bool,
    replace: bool,
    as_name: str | None,
) -> None:
    target = group[0].target
    adapter = engine.adapter(target)
    try:
        live = {s.name: s.session_id for s in adapter.read_server(probe_processes=False).sessions}
    except (ServerAbsentError, ServerNotRunningError):
        live = {}  # no server yet: the first new-session starts it
    except TmuxError as exc:
        for candidate in group:
            report.items.append(
                RestoreItem(target.label, candidate.name, "failed", message=str(exc))
            )
        return
    plans: list[tuple[_Candidate, SessionPlan, str | None]] = []
    for candidate in group:
        if candidate.checkpoint is None:
            report.items.append(
                RestoreItem(target.label, candidate.name, "failed", message=candidate.error or "")
            )
            continue
        name = as_name or candidate.name
        replaces = live.get(name) if replace else None
        if name in live and not replace:
            report.items.append(
                RestoreItem(
                    target.label,
                    name,
                    "skipped",
                    candidate.checkpoint.id,
                    "a session with this name exists (use --replace, or --as NAME)",
                )
            )
            continue
        build_name = f"{name}-restoring-{secrets.token_hex(3)}" if replaces else name
        plan = plan_session(
            candidate.checkpoint,
            engine.settings,
            name=build_name,
            still_running=process_is_running,
        )
        plans.append((candidate, plan, replaces))
    if dry_run:
        for candidate, plan, replaces in plans:
            lines = plan.describe()
            if replaces:
                lines.append(f"  then replaces the existing session '{as_name or candidate.name}'")
            report.items.append(
                RestoreItem(
                    target.label,
                    as_name or candidate.name,
                    "planned",
                    plan.checkpoint_id,
                    plan=lines,
                )
            )
        return
    if not plans:
        return
    outcomes = PlanExecutor(adapter, engine.scratch_dir).execute([p for _, p, _ in plans])
    for (candidate, plan, replaces), outcome in zip(plans, outcomes, strict=True):
        name = as_name or candidate.name
        if outcome.ok and replaces and outcome.session_id:
            try:
                adapter.run_commands(
                    [
                        ["kill-session", "-t", replaces],
                        ["rename-session", "-t", outcome.session_id, session_name_arg(name)],
                    ]
                )
            except TmuxError as exc:
                outcome.warnings.append(f"could not swap in the new session: {exc}")
        if outcome.ok:
            message = (
                f"{len(plan.windows)} windows, {plan.pane_count} panes "
                f"from checkpoint {plan.checkpoint_id}"
            )
            report.items.append(
                RestoreItem(
                    target.label, name, "restored", plan.checkpoint_id, message, outcome.warnings
                )
            )
        else:
            report.items.append(
                RestoreItem(
                    target.label, name, "failed", plan.checkpoint_id, outcome.error or "failed"
                )
            )
