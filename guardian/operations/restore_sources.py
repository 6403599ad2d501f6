"""What a restore rebuilds from: for each session, the newest checkpoint that verifies
(bad ones are quarantined, reported and never used; in a dry run only reported), or
exactly the one a person named; with whose checkpoint it is."""

from __future__ import annotations

from dataclasses import dataclass

from guardian.errors import RestoreUsageError
from guardian.operations.engine import Engine
from guardian.tmux.targets import ServerTarget
from recovery.checkpoint import Checkpoint, CheckpointError, NewerCheckpointError
from recovery.may_run import Trust
from recovery.store import CheckpointNotFoundError, UntrustedStoreError, describe_bad
from recovery.store.checkpoint_store import Verified
from recovery.store.entries import entries_in


@dataclass
class Candidate:
    target: ServerTarget
    name: str
    checkpoint: Checkpoint | None
    error: str | None = None
    trust: Trust = Trust.FOREIGN


def named_checkpoint(
    engine: Engine, checkpoint_id: str, explicit_server: bool, notes: list[str]
) -> Candidate:
    store = engine.store
    try:
        entry = store.find(checkpoint_id)
    except CheckpointNotFoundError as exc:
        raise RestoreUsageError(str(exc)) from None
    try:
        store.check_trusted(entry.path)
        found = store.load_verified(entry)
    except UntrustedStoreError as exc:
        return Candidate(engine.servers[0], checkpoint_id, None, str(exc))
    except NewerCheckpointError as exc:
        return Candidate(engine.servers[0], checkpoint_id, None, f"checkpoint {exc}")
    except CheckpointError as exc:
        notes.append(describe_bad(store.quarantine(entry, str(exc))))
        why = f"checkpoint {checkpoint_id} does not verify ({exc}); not used"
        return Candidate(engine.servers[0], checkpoint_id, None, why)
    checkpoint = found.checkpoint
    target = (
        engine.servers[0]
        if explicit_server
        else ServerTarget.at_path(checkpoint.server.socket_path)
    )
    return Candidate(target, checkpoint.session.name, checkpoint, trust=found.trust)


def candidates_of(
    engine: Engine, target: ServerTarget, names: list[str] | None, notes: list[str]
) -> list[Candidate]:
    store = engine.store
    if names:
        wanted = list(dict.fromkeys(names))
    else:
        manifest = store.read_manifest(target.socket_path)
        wanted = (
            list(manifest.sessions)
            if manifest is not None
            else _names_from_dirs(engine, target, notes)
        )
        wanted = [name for name in wanted if not engine.is_ignored(name)]
    found = []
    for name in wanted:
        candidate = _newest_good(engine, target, name, notes)
        if candidate.checkpoint is None and candidate.error is None:
            if not names:
                continue
            candidate.error = f"no checkpoint of session '{name}' on {target.label}"
        found.append(candidate)
    return found


def _names_from_dirs(engine: Engine, target: ServerTarget, notes: list[str]) -> list[str]:
    """Without a manifest, every session with a checkpoint of its own on this server. An
    import joins only once a person restores it by name."""
    store = engine.store
    names = []
    for session_dir in store.session_dirs(target.socket_path):
        found = store.first_verified(
            entries_in(session_dir), lambda bad: notes.append(describe_bad(bad))
        )
        if found is None:
            continue
        if found.trust in (Trust.IMPORTED, Trust.VOUCHED):
            name = found.checkpoint.session.name
            notes.append(f"'{name}' was imported and never restored: restore it by name")
            continue
        names.append(found.checkpoint.session.name)
    return names


def _newest_good(engine: Engine, target: ServerTarget, name: str, notes: list[str]) -> Candidate:
    """Newest checkpoint that verifies; bad ones are quarantined and reported, never used."""
    store = engine.store
    entries = store.entries(target.socket_path, name)
    for entry in entries:
        try:
            store.check_trusted(entry.path)
        except UntrustedStoreError as exc:
            return Candidate(target, name, None, str(exc))
    # The newest taken while the session was healthy; one taken around a failure only
    # when there is no other.
    found: Verified | None = store.first_verified(
        entries,
        lambda bad: notes.append(describe_bad(bad) + "; trying an older checkpoint"),
        accept=lambda verified: verified.checkpoint.healthy,
    )
    if found is None:
        found = store.first_verified(entries)
        if found is not None:
            notes.append(
                f"'{name}': no checkpoint taken while it was healthy; using "
                f"{found.checkpoint.id} ({found.checkpoint.health} at the time)"
            )
    if found is None:
        return Candidate(target, name, None)
    return Candidate(target, name, found.checkpoint, trust=found.trust)
