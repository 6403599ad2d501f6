"""One watcher per server: an exclusive lock file per guarded server in the state dir,
holding the pid of whoever guards it (a watcher, or a UI that guards in-process), and one
in the runtime dir keyed by the server's socket alone, so that a second watcher with
ANOTHER state dir (a tmux.conf line, a systemd unit, a person's shell) is refused too."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from guardian.errors import UiGuardsError, WatcherBusyError
from guardian.tmux.targets import ServerTarget
from recovery.files import ensure_private_dir
from recovery.may_run.text import visible
from recovery.store import server_key


def lock_path(state_dir: Path, target: ServerTarget) -> Path:
    return state_dir / "locks" / f"watch-{server_key(target.socket_path)}.lock"


def watcher_pid(state_dir: Path, target: ServerTarget) -> int | None:
    """The pid of the watcher holding this server's lock, or None when none runs."""
    text = _held(lock_path(state_dir, target))
    if text is None:
        return None
    pid = text.split("\n")[0]
    return int(pid) if pid.isdigit() else -1


@dataclass(frozen=True)
class Holder:
    """Who guards a server: `watcher`, or `ui` (a UI guarding while it is open)."""

    pid: int
    who: str


def guard_holder(state_dir: Path, target: ServerTarget) -> Holder | None:
    """Whoever holds this server's lock (ours, else the one keyed by its socket alone,
    which a watcher with another state dir holds too); None when nobody guards it."""
    for path in (lock_path(state_dir, target), server_lock_path(target)):
        text = _held(path)
        if text is not None:
            pid, _where, who = [*text.split("\n"), "", ""][:3]
            return Holder(int(pid) if pid.isdigit() else -1, who or "watcher")
    return None


def _held(path: Path) -> str | None:
    """What a lock file held by someone says; None when nobody holds it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return os.pread(fd, 4096, 0).decode(errors="replace").strip()
    finally:
        os.close(fd)
    return None


def handover_path(target: ServerTarget) -> Path:
    """Where a watcher started with `--take-over` asks a UI that guards to hand over."""
    return runtime_dir() / f"watch-{server_key(target.socket_path)}.handover"


def handover_asked(target: ServerTarget) -> int | None:
    """The pid of a live watcher asking to take this server over, if one asks."""
    try:
        text = handover_path(target).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not text.isdigit():
        return None
    try:
        os.kill(int(text), 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return int(text)


def runtime_dir() -> Path:
    """Where per-server locks live whatever the state dir: `$XDG_RUNTIME_DIR/tmux-guardian`,
    else `/tmp/tmux-guardian-UID`; ours alone (a directory another user made is refused)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    path = Path(base) / "tmux-guardian" if base else Path(f"/tmp/tmux-guardian-{os.getuid()}")
    ensure_private_dir(path)
    info = path.lstat()
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise OSError(f"refusing {path}: not a private directory of yours")
    return path


def server_lock_path(target: ServerTarget) -> Path:
    return runtime_dir() / f"watch-{server_key(target.socket_path)}.lock"


@contextlib.contextmanager
def watch_locks(
    state_dir: Path,
    targets: tuple[ServerTarget, ...],
    who: str = "watcher",
    take_over: float = 0.0,
) -> Iterator[None]:
    """`who`: `watcher`, or `ui` for a UI that guards while it is open (a person is told
    which one holds a server). `take_over`: seconds a watcher waits for a UI that guards
    to hand over, having asked it to (a watcher is never asked)."""
    fds: list[int] = []
    try:
        for target in targets:
            path = lock_path(state_dir, target)
            ensure_private_dir(path.parent)
            pid = os.getpid()
            holders = (
                (path, f"{pid}\n\n{who}"),
                (server_lock_path(target), f"{pid}\n{state_dir}\n{who}"),
            )
            for lock, holder in holders:
                fds.append(_taken_over(lock, holder, target, take_over))
        yield
    finally:
        for fd in fds:
            os.close(fd)


def _taken_over(path: Path, holder: str, target: ServerTarget, wait: float) -> int:
    """The lock, asking a UI that holds it to hand over and waiting up to `wait` s."""
    deadline = time.monotonic() + wait
    asked = False
    try:
        while True:
            try:
                return _lock(path, holder, target)
            except UiGuardsError:
                if time.monotonic() >= deadline:
                    raise
                if not asked:
                    handover_path(target).write_text(f"{os.getpid()}\n", encoding="utf-8")
                    asked = True
                time.sleep(0.1)
    finally:
        if asked:
            handover_path(target).unlink(missing_ok=True)


def _lock(path: Path, holder: str, target: ServerTarget) -> int:
    """An exclusive lock on `path`, which then names its holder; refused with who holds it."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        text = os.pread(fd, 4096, 0).decode(errors="replace").strip()
        os.close(fd)
        pid, where, who = [*text.split("\n"), "", ""][:3]
        also = f", state dir {visible(where)}" if where else ""
        if who == "ui":
            raise UiGuardsError(
                f"a tmux-guardian UI (pid {pid or '?'}{also}) guards {target.label} while it "
                "is open: quit it (q), or start the watcher with `watch --take-over` and the "
                "UI hands its guard over to the watcher"
            ) from None
        raise WatcherBusyError(
            f"another watcher (pid {pid or '?'}{also}) already guards {target.label}: "
            "one watcher per tmux server"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, holder.encode(), 0)
    return fd
