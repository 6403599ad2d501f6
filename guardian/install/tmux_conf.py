"""The tmux.conf lines: a popup key for the UI, a key for a snapshot, optionally the
watcher started with the server; installed as one marked block, so installing twice
changes nothing."""

from __future__ import annotations

import shlex

from guardian.install.systemd import program_path
from guardian.tmux.targets import ServerTarget

BLOCK_START = "# >>> tmux-guardian >>>"
BLOCK_END = "# <<< tmux-guardian <<<"


def tmux_conf_lines(
    servers: tuple[ServerTarget, ...], explicit_server: bool, *, watch: bool = False
) -> list[str]:
    """tmux.conf lines: a popup key for the UI, a key for a snapshot, optionally the watcher."""
    program = shlex.quote(program_path())
    if explicit_server:
        where = " ".join(f"-S {shlex.quote(t.socket_path)}" for t in servers)
    else:
        where = '-S "#{socket_path}"'  # the server the key was pressed in
    command = f"{program} {where}"
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
