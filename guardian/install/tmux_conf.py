"""The tmux.conf lines: a popup key for the UI, a key for a snapshot, optionally the
watcher started with the server; installed as one marked block, so installing twice
changes nothing.

Every path in the lines is literal text written now, never a format tmux expands later:
`display-popup` on tmux 3.3a does not expand `#{socket_path}`, and a directory named
`$(...)` must never become a command when the line is sourced. Each path stands in double
quotes inside the line's single quotes; a path that could break out of them is refused.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from guardian.errors import UsageError
from guardian.install.systemd import program_path
from guardian.tmux.targets import ServerTarget
from recovery.files import atomic_write
from recovery.may_run.text import control_characters, visible

BLOCK_START = "# >>> tmux-guardian >>>"
BLOCK_END = "# <<< tmux-guardian <<<"
# Inside "..." the shell still expands $ ` \ and ends at "; tmux ends the line's '...' at
# ' and starts a format at #.
_UNSAFE = set("$`\\\"'#")


def quoted_word(word: str) -> str:
    """One word for the shell command inside a tmux.conf line's single quotes."""
    bad = sorted(_UNSAFE & set(word)) + control_characters(word)
    if bad:
        raise UsageError(
            f"cannot write a tmux.conf line for {visible(word)!r}: it holds "
            f"{' '.join(bad)} (rename it, or write the line yourself)"
        )
    return f'"{word}"' if any(c.isspace() or c in ";&|<>()*?[]{}~!" for c in word) else word


def guardian_command(servers: Sequence[ServerTarget], forwarded: Sequence[str]) -> str:
    """`tmux-guardian -S PATH ... [--state-dir DIR] [--config FILE]`, literal and quoted:
    the lines guard the same servers with the same state dir as this command does."""
    words = [program_path()]
    for target in servers:
        words += ["-S", target.socket_path]
    rest = list(forwarded)
    for option in ("--state-dir", "--config"):
        if option in rest:
            position = rest.index(option)
            words += rest[position : position + 2]
    return " ".join(quoted_word(w) for w in words)


def tmux_conf_lines(
    servers: Sequence[ServerTarget], forwarded: Sequence[str] = (), *, watch: bool = False
) -> list[str]:
    """tmux.conf lines: a popup key for the UI, a key for a snapshot, optionally the watcher."""
    command = guardian_command(servers, forwarded)
    lines = [
        BLOCK_START,
        "# prefix + g opens the tmux-guardian UI in a popup; prefix + G snapshots now",
        f"bind-key g display-popup -E -w 90% -h 90% -T ' tmux-guardian ' '{command}'",
        f"bind-key G run-shell -b '{command} snapshot --json >/dev/null && "
        'tmux display-message "tmux-guardian: snapshot saved"\'',
    ]
    if watch:
        lines += [
            "# start the watcher with the server (a second one exits: one watcher per server)",
            f"run-shell -b '{command} watch --quiet'",
        ]
    return [*lines, BLOCK_END]


def install_block(text: str, block: list[str]) -> str:
    """`text` with our block replaced (or appended once): installing twice changes nothing."""
    lines = text.splitlines()
    if BLOCK_START in lines and BLOCK_END in lines[lines.index(BLOCK_START) :]:
        start = lines.index(BLOCK_START)
        end = lines.index(BLOCK_END, start)
        lines[start : end + 1] = block
    else:
        if lines and lines[-1].strip():
            lines.append("")
        lines += block
    return "\n".join(lines) + "\n"


def write_through(path: Path, text: str) -> Path:
    """Write `text` to the file `path` names, keeping its mode; a symlinked tmux.conf (a
    dotfiles link) is edited through its target, never replaced by a copy."""
    target = Path(os.path.realpath(path))
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o644
    atomic_write(target, text.encode())
    target.chmod(mode)
    return target
