"""Rebuild sessions from checkpoints: choose what verifies, plan, build, verify, report.

Never touches a session it does not restore: existing names are skipped unless --replace
(build beside it first, then swap) or --as NAME.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from guardian.errors import (
    RestoreUsageError,
    ServerAbsentError,
    ServerNotRunningError,
    TmuxError,
)
from guardian.operations.engine import Engine
from guardian.operations.restore_groups import plan_joins, run_joins
from guardian.operations.restore_sources import Candidate, candidates_of, named_checkpoint
from guardian.programs.facts import program_facts
from guardian.tmux.building import is_building, roll_back_abandoned
from guardian.tmux.executables import resolver
from guardian.tmux.executor import PlanExecutor, SessionOutcome
from guardian.tmux.names import vis_session_name
from guardian.tmux.probes import survivors
from guardian.tmux.targets import ServerTarget
from recovery.checkpoint import Checkpoint
from recovery.groups import JoinPlan
from recovery.may_run import Resolver
from recovery.models import ProgramState
from recovery.plan import PaneComeback, PlanContext, SessionPlan, plan_session
from recovery.programs import Mode
from recovery.store.resign import resign_legacy

__all__ = ["RestoreItem", "RestoreReport", "RestoreUsageError", "restore"]


@dataclass
class RestoreItem:
    server: str
    session: str
    status: str  # restored | skipped | failed | planned
    checkpoint_id: str | None = None
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    """Panes whose commands came back held (typed, not run) or refused, and why."""
    survivors: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    panes: list[PaneComeback] = field(default_factory=list)
    """A dry run's panes, each with how it comes back (the UI lets a person choose)."""
    """Panes that come back less exactly than they ran (a guessed conversation...)."""
    """Programs that survived the crash and still run: not started twice."""


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
class _Planned:
    """One session to build: where it comes from, its plan, the live session it replaces."""

    candidate: Candidate
    plan: SessionPlan
    replaces: str | None
    name: str
    checkpoint: Checkpoint


@dataclass(frozen=True)
class _How:
    dry_run: bool
    replace: bool
    as_name: str | None
    choices: dict[str, Mode]


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
    choices: dict[str, Mode] | None = None,
) -> RestoreReport:
    """`names` as a person types them, or (`names_as_tmux_reports`) as tmux lists them.
    A dry run changes nothing on disk: bad checkpoints are reported, not moved.
    `choices`: `[SESSION:]WINDOW.PANE` (or `[SESSION:]all`) -> run, hold or shell, in place
    of a program's default and never above what the rule allows."""
    report = RestoreReport()
    engine = engine.dry_run() if dry_run else engine
    if not dry_run:
        with engine.store.locked():
            resign_legacy(engine.store)
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
        candidates = [named_checkpoint(engine, checkpoint_id, explicit_server, report.notes)]
    else:
        candidates = []
        for target in engine.servers:
            candidates += candidates_of(engine, target, names, report.notes)
    if not candidates:
        report.notes.append("nothing to restore")
        return report
    by_server: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_server.setdefault(candidate.target.socket_path, []).append(candidate)
    how = _How(dry_run, replace, as_name, dict(choices or {}))
    for group in by_server.values():
        _restore_on_server(engine, group, report, how)
    return report


def choices_for(choices: dict[str, Mode], session: str) -> dict[str, Mode]:
    """The choices that apply to one session's panes, by `WINDOW.PANE` or `all`: those
    naming the session win over those for every session."""
    mine: dict[str, Mode] = {k: v for k, v in choices.items() if ":" not in k}
    for key, mode in choices.items():
        name, sep, pane = key.rpartition(":")
        if sep and vis_session_name(name) == session:
            mine[pane] = mode
    return mine


def _check_name(name: str) -> None:
    if not name or ":" in name or "." in name:
        raise RestoreUsageError(f"'{name}' is not a valid session name (no ':' or '.')")


def _restore_on_server(
    engine: Engine, group: list[Candidate], report: RestoreReport, how: _How
) -> None:
    target = group[0].target
    adapter = engine.adapter(target)
    try:
        state = adapter.read_server(probe_processes=False)
    except (ServerAbsentError, ServerNotRunningError):
        state = None  # no server yet: the first new-session starts it
    except TmuxError as exc:
        for candidate in group:
            report.items.append(
                RestoreItem(target.label, candidate.name, "failed", message=str(exc))
            )
        return
    live: dict[str, str] = {}
    if state is not None:
        roll_back_abandoned(adapter, state)  # what a killed rebuild left half-built
        live = {s.name: s.session_id for s in state.sessions if not is_building(s.name)}
    resolve = resolver(adapter.global_path() if live else None)
    planned = _plan_all(engine, group, live, report, how, resolve)
    members = [(p.name, p.checkpoint, p.replaces) for p in planned]
    joins = plan_joins(members, state.sessions if state else (), grouped=how.as_name is None)
    if how.dry_run:
        report.items += [_dry_run_item(item, joins.get(item.name)) for item in planned]
    elif planned:
        outcomes = _build_and_join(engine, target, planned, joins)
        report.items += [_built_item(p, outcomes[p.name], joins.get(p.name)) for p in planned]
        _join_restore_set(engine, target, report)


def _build_and_join(
    engine: Engine, target: ServerTarget, planned: list[_Planned], joins: dict[str, JoinPlan]
) -> dict[str, SessionOutcome]:
    """Build every session that does not join a group, then join the others to theirs.
    A member whose group's session failed to build is built in full instead (a copy of
    the windows, not shared: better than not back at all), and says so."""
    adapter = engine.adapter(target)
    executor = PlanExecutor(adapter, engine.scratch_dir, engine.settings.type_wait)
    built = [p.plan for p in planned if p.name not in joins]
    outcomes = executor.execute(built) if built else []
    ids = {o.name: o.session_id for o in outcomes if o.ok and o.session_id}
    joining = [joins[p.name] for p in planned if p.name in joins]
    orphans = {j.name for j in joining if j.joining.peer_id is None and j.joining.peer not in ids}
    outcomes += run_joins(adapter, [j for j in joining if j.name not in orphans], ids)
    alone = [p for p in planned if p.name in orphans]
    for item, outcome in zip(alone, executor.execute([p.plan for p in alone]), strict=True):
        peer = joins[item.name].joining.peer
        outcome.warnings.insert(
            0, f"its group's session '{peer}' could not be built: built in full"
        )
        outcomes.append(outcome)
    return {outcome.name: outcome for outcome in outcomes}


def _plan_all(
    engine: Engine,
    group: list[Candidate],
    live: dict[str, str],
    report: RestoreReport,
    how: _How,
    resolve: Resolver,
) -> list[_Planned]:
    label = group[0].target.label
    planned: list[_Planned] = []
    for candidate in group:
        if candidate.checkpoint is None:
            report.items.append(
                RestoreItem(label, candidate.name, "failed", message=candidate.error or "")
            )
            continue
        name = how.as_name or candidate.name
        if name in live and not how.replace:
            why = "a session with this name exists (use --replace, or --as NAME)"
            report.items.append(RestoreItem(label, name, "skipped", candidate.checkpoint.id, why))
            continue
        replaces = live.get(name) if how.replace else None
        # The programs of a session about to be replaced die with it: none survives it.
        alive = set() if replaces else survivors(_programs(candidate.checkpoint))
        context = PlanContext(
            engine.settings,
            candidate.trust,
            resolve=resolve,
            still_running=_member_of(alive),
            facts=program_facts(),
            choices=choices_for(how.choices, name),
        )
        plan = plan_session(candidate.checkpoint, context, name=name)
        plan = plan.model_copy(update={"replaces": replaces})
        planned.append(_Planned(candidate, plan, replaces, name, candidate.checkpoint))
    return planned


def _join_restore_set(engine: Engine, target: ServerTarget, report: RestoreReport) -> None:
    """What a person restored belongs to the restore set (an import joins it only now)."""
    socket_path = target.socket_path
    restored = [
        i.session for i in report.items if i.status == "restored" and i.server == target.label
    ]
    if not restored:
        return
    store = engine.store
    with store.locked():
        manifest = store.read_manifest(socket_path)
        names = list(manifest.sessions) if manifest else []
        joining = [name for name in restored if name not in names]
        if joining:
            store.write_manifest(socket_path, names + joining, datetime.now(UTC))


def _member_of(pids: set[int]) -> Callable[[ProgramState], bool]:
    return lambda program: program.pid in pids


def _programs(checkpoint: Checkpoint) -> list[ProgramState]:
    return [
        pane.program
        for window in checkpoint.session.windows
        for pane in window.panes
        if pane.program is not None
    ]


def _dry_run_item(item: _Planned, joins: JoinPlan | None = None) -> RestoreItem:
    lines = item.plan.describe() if joins is None else joins.describe()
    if item.replaces:
        lines.append(f"  then replaces the existing session '{item.name}'")
    label = item.candidate.target.label
    return RestoreItem(
        label, item.name, "planned", item.plan.checkpoint_id, plan=lines,
        panes=item.plan.comebacks() if joins is None else [],
    )  # fmt: skip


def _built_item(
    item: _Planned, outcome: SessionOutcome, joins: JoinPlan | None = None
) -> RestoreItem:
    label, plan = item.candidate.target.label, item.plan
    if not outcome.ok:
        return RestoreItem(
            label, item.name, "failed", plan.checkpoint_id, outcome.error or "failed"
        )
    if joins is not None:  # it started no pane: its windows are its group's
        message = f"joined the group of '{joins.joining.peer}' (shares its windows)"
        return RestoreItem(
            label, item.name, "restored", plan.checkpoint_id, message, outcome.warnings
        )
    message = (
        f"{len(plan.windows)} windows, {plan.pane_count} panes from checkpoint {plan.checkpoint_id}"
    )
    warnings = [*plan.warnings, *outcome.warnings]
    return RestoreItem(
        label,
        item.name,
        "restored",
        plan.checkpoint_id,
        message,
        warnings,
        held=plan.held(),
        survivors=plan.survivors(),
        notices=plan.notices(),
    )
