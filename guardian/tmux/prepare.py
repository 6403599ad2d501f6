"""Preparing a guarded server (the watcher's job alone, never snapshot/restore's):

- `remain-on-exit failed` as a GLOBAL window option, so dead panes stay visible (a
  per-window value does not reach new windows); the person's own value is remembered in
  the state dir and put back when the watcher stops;
- a `session-closed` hook at a fixed high index (a person's hooks at other indexes stay
  untouched) that appends one line to a file: how a deliberate shutdown is told from a crash.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

from guardian.tmux.adapter import TmuxAdapter
from guardian.tmux.closed_trace import closed_log_path, hook_command
from recovery.files import StoreWriteError, atomic_write, ensure_private_dir
from recovery.reading import read_bounded
from recovery.store import server_key

HOOK = "session-closed[42]"


@dataclass
class Preparation:
    pid: int | None
    original_remain_on_exit: str

    @property
    def person_keeps_dead_panes(self) -> bool:
        """`remain-on-exit on`: dead panes stay until the person closes them."""
        return self.original_remain_on_exit == "on"


def prepare(adapter: TmuxAdapter, state_dir: Path, pid: int | None) -> Preparation:
    """Set our option and hook; remember the person's value (across watcher restarts)."""
    memo = _memo_path(state_dir, adapter.target.socket_path)
    current = adapter.run(["show-options", "-gwv", "remain-on-exit"]).strip() or "off"
    original = current
    saved = _read_memo(memo)
    if saved is not None and saved.get("pid") == pid and current == "failed":
        original = str(saved.get("original", "off"))  # set by an earlier watcher run
    log = closed_log_path(state_dir, adapter.target.socket_path)
    commands = [["set-hook", "-g", HOOK, hook_command(log)]]
    if original != "on":  # a person who keeps every dead pane keeps them: already visible
        commands.insert(0, ["set-option", "-gw", "remain-on-exit", "failed"])
    adapter.run_commands(commands)
    # Guarding first; a full disk only costs the memo (the value is also kept in memory).
    with contextlib.suppress(OSError, StoreWriteError):
        ensure_private_dir(log.parent)
        ensure_private_dir(memo.parent)
        atomic_write(memo, json.dumps({"pid": pid, "original": original}).encode())
    return Preparation(pid=pid, original_remain_on_exit=original)


def hook_installed(adapter: TmuxAdapter, state_dir: Path) -> bool:
    lines = adapter.run(["show-hooks", "-g", "session-closed"]).splitlines()
    # tmux prints the command re-quoted; the log's file name is plain ASCII and unique.
    name = closed_log_path(state_dir, adapter.target.socket_path).name
    return any(line.startswith(HOOK + " ") and name in line for line in lines)


def unprepare(adapter: TmuxAdapter, state_dir: Path, preparation: Preparation) -> None:
    """Put the person's `remain-on-exit` back. The hook stays: it keeps recording closes
    while no watcher runs, so the next start knows what was closed on purpose."""
    adapter.run(["set-option", "-gw", "remain-on-exit", preparation.original_remain_on_exit])
    with contextlib.suppress(OSError):
        _memo_path(state_dir, adapter.target.socket_path).unlink()


def _memo_path(state_dir: Path, socket_path: str) -> Path:
    return state_dir / "prepared" / f"{server_key(socket_path)}.json"


def _read_memo(path: Path) -> dict[str, object] | None:
    try:
        raw, _facts = read_bounded(path, 1 << 16)
        data = json.loads(raw)
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def original_remain_on_exit(state_dir: Path, socket_path: str) -> str | None:
    """The person's own value, as a watcher that did not stop cleanly remembered it."""
    saved = _read_memo(_memo_path(state_dir, socket_path))
    value = saved.get("original") if saved is not None else None
    return value if isinstance(value, str) and value in ("on", "off", "failed") else None


def forget_preparation(state_dir: Path, socket_path: str) -> None:
    with contextlib.suppress(OSError):
        _memo_path(state_dir, socket_path).unlink()
