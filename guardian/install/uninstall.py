"""`tmux-guardian uninstall`: take back everything the tool put into tmux and the system —
the systemd unit, the tmux.conf block, and in each running guarded server our
`session-closed` hook, our `remain-on-exit` (the person's value put back) and the key
bindings of our lines — and keep the checkpoints unless asked (`--purge`)."""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from guardian.errors import TmuxError
from guardian.install import systemd
from guardian.install.tmux_conf import BLOCK_END, BLOCK_START, write_through
from guardian.tmux.adapter import TmuxAdapter
from guardian.tmux.prepare import HOOK, forget_preparation, original_remain_on_exit
from recovery.may_run.text import visible
from recovery.signing import key_path

OUR_KEYS = ("g", "G")
"""The prefix keys our tmux.conf lines bind (removed only when they run tmux-guardian)."""


@dataclass
class Uninstalled:
    lines: list[str] = field(default_factory=list)
    failed: bool = False

    def say(self, line: str) -> None:
        self.lines.append(visible(line))


def remove_block(text: str) -> str | None:
    """`text` without our marked block (and the blank line we put before it), or None
    when it has none."""
    lines = text.splitlines()
    if BLOCK_START not in lines:
        return None
    start = lines.index(BLOCK_START)
    end = lines.index(BLOCK_END, start) if BLOCK_END in lines[start:] else len(lines) - 1
    if start > 0 and not lines[start - 1].strip():
        start -= 1
    kept = lines[:start] + lines[end + 1 :]
    return "\n".join(kept) + ("\n" if kept else "")


def unconfigure_file(path: Path, done: Uninstalled) -> None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return
    except (OSError, UnicodeDecodeError) as exc:
        done.say(f"cannot read {path}: {exc}")
        done.failed = True
        return
    after = remove_block(text)
    if after is None:
        done.say(f"{path}: no tmux-guardian lines")
        return
    write_through(path, after)
    done.say(f"{path}: tmux-guardian lines removed (the rest kept)")


def unprepare_server(adapter: TmuxAdapter, state_dir: Path, done: Uninstalled) -> None:
    """Our hook, option and key bindings out of a running server; the person's own stay."""
    label = adapter.target.socket_path
    try:
        commands = [["set-hook", "-gu", HOOK]]
        current = adapter.run(["show-options", "-gwv", "remain-on-exit"]).strip()
        original = original_remain_on_exit(state_dir, label)
        if current == "failed":  # ours (the person's value was remembered, else off)
            commands.append(["set-option", "-gw", "remain-on-exit", original or "off"])
        listing = adapter.run(["list-keys", "-T", "prefix"]).splitlines()
        for key in OUR_KEYS:
            if any(_binds(line, key) and "tmux-guardian" in line for line in listing):
                commands.append(["unbind-key", "-T", "prefix", key])
        adapter.run_commands(commands)
    except TmuxError as exc:
        done.say(f"{label}: not running or not answering ({exc}): nothing to take back there")
        return
    forget_preparation(state_dir, label)
    done.say(f"{label}: hook, remain-on-exit and key bindings of tmux-guardian removed")


def _binds(line: str, key: str) -> bool:
    """`bind-key -T prefix g display-popup ...` binds g (a person's own g is left)."""
    words = line.split()
    return words[:3] == ["bind-key", "-T", "prefix"] and words[3:4] == [key]


def remove_unit(done: Uninstalled) -> None:
    code, lines = systemd.uninstall(systemd.Systemctl.find())
    for line in lines:
        done.say(f"service: {line}")
    done.failed = done.failed or code != 0


def purge(state_dir: Path, done: Uninstalled) -> None:
    """Checkpoints, journal and the signing key: only when the person asks."""
    if state_dir.is_dir() and not state_dir.is_symlink():
        shutil.rmtree(state_dir)
        done.say(f"removed {state_dir} (checkpoints, journal, logs)")
    with contextlib.suppress(FileNotFoundError):
        key_path().unlink()
        done.say(f"removed the signing key {key_path()}")
