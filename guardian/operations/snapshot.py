"""Take checkpoints of live sessions: read once, write only what changed, never from an
empty or unreachable server."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from guardian.operations.engine import Engine
from guardian.programs.capture import capture_resumes
from guardian.tmux.names import vis_session_name
from guardian.tmux.servers import boot_id, host_name
from guardian.tmux.targets import ServerTarget
from recovery.canonical import sha256_hex
from recovery.carried_choices import with_carried_choices
from recovery.checkpoint import Checkpoint, compress_text
from recovery.files import StoreWriteError
from recovery.may_run import Trust
from recovery.models import ServerState, SessionState
from recovery.store import describe_bad, new_checkpoint_id
from recovery.store.checkpoint_store import Verified
from recovery.store.resign import resign_legacy
from recovery.structure import structure_key


@dataclass
class SessionSnapshot:
    server: str
    session: str
    status: str  # "saved" | "unchanged" | "missing" | "ignored"
    checkpoint_id: str | None = None
    windows: int = 0
    panes: int = 0


@dataclass
class SnapshotReport:
    server: str
    sessions: list[SessionSnapshot] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    write_failed: bool = False

    @property
    def failed(self) -> bool:
        return self.write_failed or any(s.status == "missing" for s in self.sessions)


def take_snapshot(
    engine: Engine,
    target: ServerTarget,
    names: list[str] | None = None,
    *,
    reason: str = "snapshot",
    force: bool = False,
    now: datetime | None = None,
) -> SnapshotReport:
    """Checkpoint the guarded sessions of one server (or only `names`). Raises TmuxError
    when the server cannot be read, so nothing is ever written from a failed read."""
    state = capture_resumes(engine.adapter(target).read_server())
    return save_state(engine, state, target, names, reason=reason, force=force, now=now)


def save_state(
    engine: Engine,
    state: ServerState,
    target: ServerTarget,
    names: list[str] | None = None,
    *,
    reason: str = "snapshot",
    force: bool = False,
    now: datetime | None = None,
    health: str = "healthy",
    spare: bool = False,
) -> SnapshotReport:
    """`health`: the sessions' health now (a checkpoint taken before a repair is marked,
    and never preferred as the source of a rebuild). `spare`: an unchanged session whose
    checkpoint is alone gets a second copy, so one damaged file never loses it."""
    report = SnapshotReport(server=target.label)
    for session_id in state.unreadable:
        report.notes.append(
            f"session {session_id} not saved: a window name, title or path in it holds a "
            "control character (\\x1e or \\x1f) tmux-guardian cannot read safely; rename it"
        )
    if not state.sessions:
        return report
    chosen = _choose_sessions(engine, state, target, names, report)
    contents = _capture(engine, target, chosen) if engine.settings.capture_contents else {}
    when = now or datetime.now(UTC)
    store = engine.store
    with store.locked():
        resign_legacy(store)
        to_write = _changed_checkpoints(
            engine,
            state,
            chosen,
            contents,
            report,
            reason,
            force or health != "healthy",
            when,
            spare=spare,
        )
        to_write = [c.model_copy(update={"health": health}) for c in to_write]
        _write(engine, to_write, report, target)
        if not names:
            guarded = [s.name for s in state.sessions if not engine.is_ignored(s.name)]
            store.write_manifest(state.server.socket_path, guarded, when)
            store.age_out(state.server.socket_path, {s.name for s in state.sessions}, when)
    return report


def _choose_sessions(
    engine: Engine,
    state: ServerState,
    target: ServerTarget,
    names: list[str] | None,
    report: SnapshotReport,
) -> list[SessionState]:
    """The sessions named (each missing one reported), or every one not ignored."""
    chosen: list[SessionState] = []
    if names:
        for name in dict.fromkeys(vis_session_name(n) for n in names):
            session = state.session(name)
            if session is None:
                report.sessions.append(SessionSnapshot(target.label, name, "missing"))
            else:
                chosen.append(session)
        return chosen
    for session in state.sessions:
        if engine.is_ignored(session.name):
            report.sessions.append(SessionSnapshot(target.label, session.name, "ignored"))
        else:
            chosen.append(session)
    return chosen


def _changed_checkpoints(
    engine: Engine,
    state: ServerState,
    chosen: list[SessionState],
    contents: dict[str, str],
    report: SnapshotReport,
    reason: str,
    force: bool,
    when: datetime,
    *,
    spare: bool = False,
) -> list[Checkpoint]:
    """A checkpoint for each session whose structure differs from its newest one (or all
    of them with `force`); the others are reported unchanged. Caller holds the lock."""
    host, boot = host_name(), boot_id()
    to_write: list[Checkpoint] = []
    for session in chosen:
        found = engine.store.newest(
            state.server.socket_path,
            session.name,
            on_bad=lambda bad: report.notes.append(describe_bad(bad)),
        )
        session = _with_choices_of(engine, session, found)
        key = structure_key(session)
        texts = _session_contents(session, contents)
        digest = sha256_hex(texts) if texts else None
        # Only the person's own checkpoint taken while healthy makes a new one needless:
        # an import or a foreign file of the same shape holds its commands.
        own = found is not None and found.trust is Trust.OWN and found.checkpoint.healthy
        latest = found.checkpoint if found is not None and own else None
        same = latest is not None and (latest.structure, latest.contents_digest) == (key, digest)
        if spare and same and engine.store.alone(state.server.socket_path, session.name):
            same = False
        if latest is not None and same and not force:
            report.sessions.append(
                SessionSnapshot(
                    report.server,
                    session.name,
                    "unchanged",
                    latest.id,
                    len(session.windows),
                    session.pane_count,
                )
            )
            continue
        to_write.append(
            Checkpoint(
                id=new_checkpoint_id(when),
                created_at=when,
                reason=reason,
                host=host,
                boot_id=boot,
                server=state.server,
                session=session,
                structure=key,
                contents=texts or None,
                contents_digest=digest,
            )
        )
    return to_write


def _with_choices_of(engine: Engine, session: SessionState, found: Verified | None) -> SessionState:
    """The choices its last checkpoint (the person's own, or an import they vouched for)
    carries into this one (`recovery.carried_choices`)."""
    if found is None or found.trust not in (Trust.OWN, Trust.VOUCHED):
        return session
    return with_carried_choices(
        session,
        found.checkpoint.session,
        vouched=found.trust is Trust.VOUCHED,
        allowed=engine.settings.environment,
    )


def _write(
    engine: Engine, to_write: list[Checkpoint], report: SnapshotReport, target: ServerTarget
) -> None:
    for checkpoint, result in zip(to_write, engine.store.write_many(to_write), strict=True):
        session = checkpoint.session
        if isinstance(result, StoreWriteError):
            report.notes.append(f"{session.name}: {result}")
            report.write_failed = True
            continue
        report.sessions.append(
            SessionSnapshot(
                target.label,
                session.name,
                "saved",
                checkpoint.id,
                len(session.windows),
                session.pane_count,
            )
        )


def _capture(engine: Engine, target: ServerTarget, sessions: list[SessionState]) -> dict[str, str]:
    """The text of every live pane, except panes running a program of `secret_programs`
    (a password prompt, a key being made): those are never captured."""
    secret = set(engine.settings.secret_programs)
    pane_ids = [
        p.pane_id
        for s in sessions
        for w in s.windows
        for p in w.panes
        if not p.dead
        and not secret & {n for prog in (*p.job, p.program) if prog for n in prog.names}
    ]
    return engine.adapter(target).capture_contents(pane_ids, engine.settings.capture_lines)


def _session_contents(session: SessionState, captured: dict[str, str]) -> dict[str, str]:
    return {
        f"{w.index}.{p.index}": compress_text(captured[p.pane_id])
        for w in session.windows
        for p in w.panes
        if captured.get(p.pane_id)
    }
