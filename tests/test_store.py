"""CheckpointStore: atomic writes, a real lock, quarantine, permissions, retention."""

from __future__ import annotations

import contextlib
import errno
import multiprocessing
import os
import stat
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.settings import Retention
from recovery import files
from recovery.checkpoint import CheckpointError
from recovery.files import StoreWriteError
from recovery.retention import Dated, select_for_deletion
from recovery.store import (
    CheckpointStore,
    StoreBusyError,
    UntrustedStoreError,
    new_checkpoint_id,
    parse_checkpoint_id,
    session_key,
)
from tests.factories import checkpoint, session


def loadable(store: CheckpointStore) -> list[str]:
    ids = []
    for entry in store.entries():
        with contextlib.suppress(CheckpointError):
            ids.append(store.load(entry).id)
    return ids


def test_ids_are_unique_and_ordered_below_one_second() -> None:
    now = datetime.now(UTC)
    ids = [new_checkpoint_id(now + timedelta(microseconds=i)) for i in range(2000)]
    assert len(set(ids)) == len(ids)
    assert [parse_checkpoint_id(i) for i in ids] == sorted(parse_checkpoint_id(i) for i in ids)
    same_instant = {new_checkpoint_id(now) for _ in range(200)}
    assert len(same_instant) > 150  # random suffix; the store refuses the rare collision


def test_files_and_dirs_are_private(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "state")
    with store.locked():
        entry = store.write(checkpoint())
    assert stat.S_IMODE(entry.path.stat().st_mode) == 0o600
    for directory in (entry.path.parent, entry.path.parent.parent, store.root):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700


@pytest.mark.parametrize("fail_at", ["write", "fsync", "replace", "dirsync"])
def test_interrupted_write_never_leaves_a_file_that_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_at: str
) -> None:
    store = CheckpointStore(tmp_path / "state")
    with store.locked():
        old = store.write(checkpoint(when=datetime.now(UTC) - timedelta(seconds=5)))
    real_write, real_fsync, real_replace = os.write, os.fsync, os.replace
    calls = {"fsync": 0}

    def half_write(fd: int, data: object) -> int:
        real_write(fd, bytes(data)[: len(data) // 2])  # type: ignore[arg-type]
        raise OSError(errno.ENOSPC, "No space left on device")

    def failing_fsync(fd: int) -> None:
        calls["fsync"] += 1
        if fail_at == "fsync" or (fail_at == "dirsync" and calls["fsync"] == 2):
            raise OSError(errno.EIO, "I/O error")
        real_fsync(fd)

    def failing_replace(src: object, dst: object) -> None:
        raise OSError(errno.EIO, "I/O error")

    if fail_at == "write":
        monkeypatch.setattr(files.os, "write", half_write)
    monkeypatch.setattr(files.os, "fsync", failing_fsync)
    if fail_at == "replace":
        monkeypatch.setattr(files.os, "replace", failing_replace)
    new = checkpoint()
    with store.locked(), pytest.raises(StoreWriteError):
        store.write(new)
    monkeypatch.setattr(files.os, "write", real_write)
    monkeypatch.setattr(files.os, "replace", real_replace)
    ids = loadable(store)
    assert old.id in ids
    # The rename is the commit point: after it, the new file is whole; before it, absent.
    assert ids in ([old.id], [new.id, old.id])
    assert not list(old.path.parent.glob(".tmp-*"))


def test_full_disk_says_so_and_keeps_older_checkpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = CheckpointStore(tmp_path / "state")
    with store.locked():
        old = store.write(checkpoint(when=datetime.now(UTC) - timedelta(seconds=5)))

    def no_space(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "write", no_space)
    with store.locked(), pytest.raises(StoreWriteError, match="no space left"):
        store.write(checkpoint())
    monkeypatch.undo()
    assert loadable(store) == [old.id]


def _hold_lock(root: str, ready: multiprocessing.synchronize.Event, release: object) -> None:
    store = CheckpointStore(Path(root))
    with store.locked():
        ready.set()
        release.wait(10)  # type: ignore[attr-defined]


def test_one_writer_at_a_time_across_processes(tmp_path: Path) -> None:
    root = tmp_path / "state"
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(root), ready, release))
    holder.start()
    try:
        assert ready.wait(10)
        started = time.monotonic()
        with (
            pytest.raises(StoreBusyError, match=str(holder.pid)),
            CheckpointStore(root).locked(timeout=0.3),
        ):
            pass
        assert time.monotonic() - started >= 0.3
    finally:
        release.set()
        holder.join(10)
    with CheckpointStore(root).locked(timeout=1):
        pass  # released when the holder ended


def test_bad_file_is_quarantined_and_older_one_used(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "state")
    old_cp = checkpoint(when=datetime.now(UTC) - timedelta(minutes=1))
    new_cp = checkpoint(session(panes=2))
    with store.locked():
        store.write(old_cp)
        new = store.write(new_cp)
    new.path.write_bytes(new.path.read_bytes().replace(b'"index":1', b'"index":7'))
    bad = []
    got = store.newest_verified(old_cp.server.socket_path, "work", on_bad=bad.append)
    assert got is not None and got.id == old_cp.id
    assert len(bad) == 1 and bad[0].moved_to is not None
    assert bad[0].moved_to.is_relative_to(store.quarantine_dir)
    assert "checksum" in bad[0].moved_to.with_suffix(".reason").read_text()
    assert not new.path.exists()


@pytest.mark.parametrize("where", ["file", "session dir", "state dir"])
def test_store_writable_by_others_is_refused(tmp_path: Path, where: str) -> None:
    store = CheckpointStore(tmp_path / "state")
    with store.locked():
        entry = store.write(checkpoint())
    store.check_trusted(entry.path)
    target = {"file": entry.path, "session dir": entry.path.parent, "state dir": store.root}[where]
    target.chmod(0o777 if target.is_dir() else 0o666)
    with pytest.raises(UntrustedStoreError, match="writable by other users"):
        store.check_trusted(entry.path)


def test_session_keys_are_safe_path_components() -> None:
    names = ["..", ".", "a/b", "x $(touch /tmp/p)", "é" * 300, "", "a\x00b", "-rf"]
    keys = [session_key(n) for n in names]
    assert len(set(keys)) == len(keys)
    for key in keys:
        assert "/" not in key and key not in (".", "..") and "\x00" not in key
        assert len(key.encode()) < 200


def test_retention_keeps_last_n_and_one_per_day() -> None:
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    items = [Dated(f"h{h:03d}", now - timedelta(hours=h)) for h in range(0, 24 * 20, 6)]
    doomed = set(select_for_deletion(items, now=now, keep_last=3, daily_days=5))
    kept = [i for i in items if i.id not in doomed]
    assert [i.id for i in kept[:3]] == ["h000", "h006", "h012"]
    days = {i.created_at.date() for i in kept}
    assert len(days) == 6  # today plus five earlier days (the horizon's own day partly)
    assert all(i.created_at >= now - timedelta(days=5) for i in kept)
    assert len({i.created_at.date() for i in kept[3:]}) == len(kept[3:])


def test_retention_never_deletes_the_protected_checkpoint() -> None:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    items = [Dated(f"c{i}", now - timedelta(days=100 + i)) for i in range(10)]
    doomed = select_for_deletion(items, now=now, keep_last=1, daily_days=0, protect="c9")
    assert "c9" not in doomed and "c0" not in doomed and len(doomed) == 8


def test_write_prunes_to_keep_last(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "state", Retention(keep_last=3, daily_days=0))
    start = datetime.now(UTC) - timedelta(seconds=30)
    with store.locked():
        written = [store.write(checkpoint(when=start + timedelta(seconds=i))) for i in range(6)]
    assert [e.id for e in store.entries()] == [e.id for e in reversed(written[3:])]


def test_sessions_gone_longer_than_d_days_age_out(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "state", Retention(keep_last=5, daily_days=2))
    now = datetime.now(UTC)
    old = checkpoint(session("gone"), when=now - timedelta(days=3))
    live_old = checkpoint(session("live"), when=now - timedelta(days=3))
    recent = checkpoint(session("recent"), when=now - timedelta(hours=1))
    with store.locked():
        for cp in (old, live_old, recent):
            store.write(cp)
        store.age_out(old.server.socket_path, {"live"}, now)
    assert {store.load(e).session.name for e in store.entries()} == {"live", "recent"}


def test_journal_appends_rotates_and_skips_torn_lines(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from recovery import journal as journal_module
    from recovery.journal import Journal

    monkeypatch.setattr(journal_module, "MAX_BYTES", 400)
    log = Journal(tmp_path)
    for n in range(30):
        log.record("/s", f"s{n}", "verdict", health="crashed", evidence=("x",))
    with log.path.open("a") as handle:
        handle.write('{"torn": ')  # a write cut short by a crash
    entries = log.read()
    assert [e.session for e in entries] == [f"s{n}" for n in range(30 - len(entries), 30)]
    assert len(entries) >= 8 and (tmp_path / "journal.1.jsonl").exists()
    assert not (tmp_path / "journal.4.jsonl").exists()
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    assert [e.session for e in log.read(session="s29")] == ["s29"]
