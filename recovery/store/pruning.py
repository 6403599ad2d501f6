"""Retention on disk: the last N checkpoints of a session plus one per day for D days (the
choice is `recovery.retention`'s), and sessions gone for longer than D days aged out.
Nothing here follows a link: session directories come from a listing that never does, and
rmtree refuses a link at its top."""

from __future__ import annotations

import contextlib
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from config.settings import Retention
from recovery.retention import Dated, select_for_deletion
from recovery.store.entries import entries_in
from recovery.store.keys import session_key


def prune_session(
    session_dir: Path, retention: Retention, *, protect: set[str], now: datetime
) -> list[str]:
    """Apply retention to one session's directory. Caller holds the lock."""
    doomed = select_for_deletion(
        [Dated(e.id, e.created_at) for e in entries_in(session_dir)],
        now=now,
        keep_last=retention.keep_last,
        daily_days=retention.daily_days,
        protect=protect,
    )
    for checkpoint_id in doomed:
        with contextlib.suppress(FileNotFoundError):
            (session_dir / f"{checkpoint_id}.json").unlink()
    return doomed


def age_out_sessions(
    session_dirs: list[Path], retention: Retention, live_names: set[str], now: datetime
) -> list[Path]:
    """Remove sessions absent from the server and unsaved for longer than D days."""
    horizon = now - timedelta(days=max(retention.daily_days, 1))
    live_keys = {session_key(name) for name in live_names}
    removed: list[Path] = []
    for session_dir in session_dirs:
        if session_dir.name in live_keys or session_dir.is_symlink():
            continue
        dates = [e.created_at for e in entries_in(session_dir)]
        if not dates or max(dates) < horizon:
            shutil.rmtree(session_dir, ignore_errors=True)  # refuses a link at the top
            removed.append(session_dir)
    return removed
