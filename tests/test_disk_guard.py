"""The disk under the state dir filling up: on a real 2 MiB tmpfs, the watcher keeps
guarding (a kill -9 is still rebuilt with the disk full), history is thinned to the
newest checkpoint of each session, contents are no longer captured, it is said once, and
every checkpoint left verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import Settings
from guardian.operations.engine import Engine
from guardian.operations.snapshot import take_snapshot
from guardian.tmux.targets import ServerTarget
from guardian.watch.disk_guard import DiskGuard
from guardian.watch.guard import GuardOptions
from guardian.watch.monitor import Monitor
from recovery.health import Health
from recovery.journal import Journal
from tests.conftest import PrivateServer, wait_until
from tests.test_watcher import FAST

MIB = 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MiB tmpfs (needs root, as CI and this machine run; skipped elsewhere)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mount)],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(directory: Path, leave: int) -> Path:
    """A file that takes the disk's free space down to about `leave` bytes (0: full)."""
    filler = directory / "filler"
    with filler.open("ab") as out:
        while True:
            facts = os.statvfs(directory)
            free = facts.f_bavail * facts.f_frsize
            if free <= leave:
                return filler
            try:
                out.write(b"\0" * min(64 * 1024, max(free - leave, 4096)))
                out.flush()
            except OSError:
                return filler


def entries_by_session(engine: Engine, socket: str) -> dict[str, list[str]]:
    store = engine.store
    return {d.name: [e.id for e in store.entries(socket)
                     if e.path.parent == d] for d in store.session_dirs(socket)}  # fmt: skip


async def poll_until_healthy(
    monitor: Monitor, timeout: float = 15.0, *, after: Health | None = None
) -> list[Health]:
    """Poll until every session is healthy (having first been `after`: when tmux lost a
    pane's exit status, a poll can be healthy while it is asked to reap it)."""
    seen: list[Health] = []
    deadline = time.monotonic() + timeout
    while True:
        verdicts = await monitor.poll_once()
        seen += [v.health for v in verdicts]
        healthy = verdicts and all(v.health is Health.HEALTHY for v in verdicts)
        if healthy and (after is None or after in seen):
            return seen
        assert time.monotonic() < deadline, verdicts


@pytest.mark.tmux
async def test_a_full_state_dir_thins_history_and_guarding_goes_on(
    tmux_server: PrivateServer, small_disk: Path
) -> None:
    t = tmux_server
    for name in ("api", "db"):
        t.cmd("new-session", "-d", "-s", name, "-x", "120", "-y", "40")
    t.cmd("split-window", "-t", "db", "tail", "-f", "/dev/null")  # respawned if it dies
    state = small_disk / "state"
    state.mkdir(mode=0o700)
    settings = FAST.model_copy(update={"capture_contents": True, "min_free_mb": 1.0})
    target = ServerTarget.at_path(str(t.socket))
    engine = Engine(settings, state, (target,))
    for n in range(8):  # a history: every snapshot saves new pane text
        for name in ("api", "db"):
            t.cmd("send-keys", "-t", name, f"echo history line {n} {'x' * 200}", "Enter")
        time.sleep(0.05)
        take_snapshot(engine, target, force=True)
    before = entries_by_session(engine, target.socket_path)
    assert all(len(ids) >= 8 for ids in before.values()), before

    filler = fill(small_disk, leave=256 * 1024)  # below the 1 MiB threshold
    monitor = Monitor(engine, GuardOptions())
    try:
        for n in range(3):
            t.cmd("send-keys", "-t", "api", f"echo new text {n}", "Enter")
            await poll_until_healthy(monitor)
        thinned = entries_by_session(engine, target.socket_path)
        assert set(thinned) == set(before)
        assert all(1 <= len(ids) <= 2 for ids in thinned.values()), thinned
        for name in ("api", "db"):  # no contents captured while space is low
            newest = engine.store.newest(target.socket_path, name)
            assert newest is not None and newest.checkpoint.contents is None
        said = [e.outcome or "" for e in Journal(state).read() if e.kind == "note"]
        assert len([s for s in said if s.startswith("low disk space")]) == 1, said

        fill(small_disk, leave=0)  # now completely full
        old_pid = t.pid()
        t.crash()
        healths = await poll_until_healthy(monitor)
        assert Health.CRASHED in healths and t.pid() != old_pid
        assert sorted(t.cmd("list-sessions", "-F", "#{session_name}").split()) == ["api", "db"]
        (tail,) = [int(line.split()[1]) for line in t.lines("#{pane_current_command} #{pane_pid}")
                   if line.startswith("tail ")]  # fmt: skip
        os.kill(tail, signal.SIGSEGV)  # a repair in place, its checkpoint first: no room
        wait_until(lambda: "1" in t.lines("#{pane_dead}"))
        healths = await poll_until_healthy(monitor, after=Health.CORRUPTED)
        assert Health.CORRUPTED in healths
        assert t.lines("#{pane_dead}") == ["0", "0", "0"]

        filler.unlink()
        await poll_until_healthy(monitor)
    finally:
        monitor.release()
    said = [e.outcome or "" for e in Journal(state).read() if e.kind == "note"]
    assert any(s.startswith("disk space is back") for s in said), said
    for entry in engine.store.entries(target.socket_path):  # nothing corrupt
        engine.store.load(entry)
    assert not (state / "quarantine").exists() or not any((state / "quarantine").iterdir())


def statvfs_with(free: int, total: int) -> os.statvfs_result:
    block = 4096
    return os.statvfs_result((block, block, total // block, free // block, free // block,
                              0, 0, 0, 0, 255))  # fmt: skip


@pytest.mark.parametrize(
    ("free_mb", "total_mb", "settings", "low"),
    [
        (49, 10_000, Settings(), True),  # the default 50 MiB
        (51, 10_000, Settings(), False),
        (400, 10_000, Settings(min_free_fraction=0.05), True),  # 5 % of 10 GB is 500 MB
        (600, 10_000, Settings(min_free_fraction=0.05), False),
        (0, 10_000, Settings(min_free_mb=0), False),  # turned off
    ],
)
def test_threshold_in_mib_or_as_a_fraction(
    tmp_path: Path, free_mb: int, total_mb: int, settings: Settings, low: bool
) -> None:
    """The threshold alone, on a stated file system (the real one is the tmpfs above)."""
    target = ServerTarget.at_path(str(tmp_path / "s"))
    engine = Engine(settings, tmp_path / "state", (target,))
    fake = statvfs_with(free_mb * MIB, total_mb * MIB)
    guard = DiskGuard(engine, target, statvfs=lambda _path: fake)
    written = guard.engine_for_writing()
    assert guard.low is low
    assert (written is engine) is not low
    assert written.settings.retention.keep_last == (2 if low else 50)
