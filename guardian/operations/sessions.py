"""What a person asks of a session, for the CLI and the TUI alike: forget, reset (recover
now) and pause. Each writes the state shared with the watcher, under the store lock."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime

from guardian.operations.engine import Engine
from guardian.operations.restore import RestoreReport
from recovery.journal import Journal, JournalEntry
from recovery.shared import SharedState, SharedStore, shared_key


def journal_person(engine: Engine, socket_path: str, name: str, action: str, outcome: str) -> None:
    """A person's action goes to the recovery journal like the watcher's own."""
    # The action happened; a journal that cannot be written must not undo it.
    with contextlib.suppress(OSError):
        Journal(engine.state_dir).record(
            socket_path, name, "action", action=f"{action} (by a person)", outcome=outcome
        )


def journal_restore(engine: Engine, report: RestoreReport) -> None:
    """Journal each session a person's restore built or failed to build, in one write."""
    entries = []
    for item in report.items:
        if item.status in ("restored", "failed"):
            target = next((t for t in engine.servers if t.label == item.server), None)
            outcome = ("ok: " if item.status == "restored" else "failed: ") + item.message
            if item.survivors or item.notices:
                outcome += "; " + "; ".join([*item.survivors, *item.notices])
            entries.append(
                JournalEntry(
                    at=datetime.now(UTC),
                    server=target.socket_path if target else item.server,
                    session=item.session,
                    kind="action",
                    action=f"restore from {item.checkpoint_id} (by a person)",
                    outcome=outcome,
                )
            )
    with contextlib.suppress(OSError):
        Journal(engine.state_dir).append_many(entries)


def _update(engine: Engine, change: Callable[[SharedState], SharedState]) -> SharedState:
    shared = SharedStore(engine.state_dir)
    with engine.store.locked():
        state = change(shared.load())
        shared.save(state)
    return state


def forget_session(engine: Engine, socket_path: str, name: str) -> None:
    """Never recover, checkpoint or restore it again; it leaves the restore set."""
    key = shared_key(socket_path, name)
    _update(
        engine,
        lambda s: s.model_copy(
            update={"forgotten": s.forgotten | {key}, "paused": s.paused - {key}}
        ),
    )
    store = engine.store
    with store.locked():
        manifest = store.read_manifest(socket_path)
        if manifest is not None and name in manifest.sessions:
            rest = [n for n in manifest.sessions if n != name]
            store.write_manifest(socket_path, rest, datetime.now(UTC))
    journal_person(engine, socket_path, name, "forget", "not guarded any more")


def reset_session(engine: Engine, socket_path: str, name: str, *, ask_watcher: bool) -> None:
    """Clear `given up` (and forgotten, paused); `ask_watcher` asks it to recover now."""
    key = shared_key(socket_path, name)

    def change(s: SharedState) -> SharedState:
        update = {
            "given_up": {k: v for k, v in s.given_up.items() if k != key},
            "forgotten": s.forgotten - {key},
            "paused": s.paused - {key},
        }
        if ask_watcher:
            update["reset"] = s.reset | {key}
        return s.model_copy(update=update)

    _update(engine, change)
    journal_person(engine, socket_path, name, "reset", "recover now" if ask_watcher else "reset")


def toggle_pause(engine: Engine, socket_path: str, name: str) -> bool:
    """Pause or resume guarding; returns True when it is paused now."""
    key = shared_key(socket_path, name)
    state = _update(
        engine,
        lambda s: s.model_copy(
            update={"paused": s.paused - {key} if key in s.paused else s.paused | {key}}
        ),
    )
    paused = key in state.paused
    journal_person(engine, socket_path, name, "pause" if paused else "resume", "ok")
    return paused
