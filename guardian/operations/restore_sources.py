"""What a restore rebuilds from: for each session, the newest checkpoint that verifies
(bad ones are quarantined, reported and never used), or exactly the one a person named."""

from __future__ import annotations

from dataclasses import dataclass

from guardian.errors import RestoreUsageError
from guardian.operations.engine import Engine
from guardian.tmux.targets import ServerTarget
from recovery.checkpoint import Checkpoint, CheckpointError
from recovery.store import CheckpointNotFoundError, UntrustedStoreError, describe_bad


@dataclass
class Candidate:
    target: ServerTarget
    name: str
    checkpoint: Checkpoint | None
    error: str | None = None


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
        checkpoint = store.load(entry)
    except UntrustedStoreError as exc:
        return Candidate(engine.servers[0], checkpoint_id, None, str(exc))
    except CheckpointError as exc:
        bad = store.quarantine(entry, str(exc))
        notes.append(describe_bad(bad))
        return Candidate(
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
    return Candidate(target, checkpoint.session.name, checkpoint)


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
        checkpoint, error = _newest_good(engine, target, name, notes)
        if checkpoint is None and error is None:
            if names:
                error = f"no checkpoint of session '{name}' on {target.label}"
            else:
                continue
        found.append(Candidate(target, name, checkpoint, error))
    return found


def _names_from_dirs(engine: Engine, target: ServerTarget, notes: list[str]) -> list[str]:
    """Without a manifest, every session with a checkpoint on this server."""
    names = []
    for session_dir in engine.store.session_dirs(target.socket_path):
        checkpoint = engine.store.newest_verified_in(
            session_dir, on_bad=lambda bad: notes.append(describe_bad(bad))
        )
        if checkpoint is not None:
            names.append(checkpoint.session.name)
    return names


def _newest_good(
    engine: Engine, target: ServerTarget, name: str, notes: list[str]
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
            notes.append(describe_bad(bad) + "; trying an older checkpoint")
    return None, None
