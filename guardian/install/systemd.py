"""`tmux-guardian service install|uninstall|status`: a systemd *user* unit running `watch`.

The tmux servers the watcher rebuilds are its children; `KillMode=process` makes stopping
or restarting the service end the watcher alone, never those servers.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

UNIT_NAME = "tmux-guardian.service"


def unit_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user" / UNIT_NAME


def systemd_quote(word: str) -> str:
    """One ExecStart word, as systemd parses it (quotes, backslashes, %, $)."""
    escaped = word.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    needs = not escaped or any(c.isspace() for c in escaped) or escaped != word
    return f'"{escaped}"' if needs else escaped


def program_path() -> str:
    running = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if os.path.basename(running) == "tmux-guardian":
        return running
    return shutil.which("tmux-guardian") or "tmux-guardian"


def render_unit(program: str, arguments: list[str]) -> str:
    command = " ".join(systemd_quote(w) for w in [program, *arguments, "watch"])
    return f"""# Written by `tmux-guardian service install`;
# `tmux-guardian service uninstall` removes it.
[Unit]
Description=tmux-guardian: keeps tmux sessions alive (health, recovery, checkpoints)
After=default.target

[Service]
Type=simple
ExecStart={command}
Restart=on-failure
RestartSec=5
# The tmux servers the watcher rebuilds are its children: stopping or restarting the
# service must end the watcher alone, never them.
KillMode=process
Environment=PYTHONUNBUFFERED=1

[Install]
WantedBy=default.target
"""


@dataclass
class Systemctl:
    binary: str | None

    @classmethod
    def find(cls) -> Systemctl:
        return cls(os.environ.get("TMUX_GUARDIAN_SYSTEMCTL") or shutil.which("systemctl"))

    def available(self) -> bool:
        """A systemctl that can reach a running user manager (not so in most containers)."""
        if not self.binary:
            return False
        try:
            done = subprocess.run(
                [self.binary, "--user", "show-environment"],
                capture_output=True,
                timeout=10,
                check=False,
            )
        except OSError:
            return False
        return done.returncode == 0

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        assert self.binary
        return subprocess.run(
            [self.binary, "--user", *args], capture_output=True, text=True, timeout=30, check=False
        )


def fallback_instructions(program: str, arguments: list[str]) -> list[str]:
    command = " ".join(shlex.quote(w) for w in [program, *arguments, "watch", "--quiet"])
    return [
        "systemd (a user manager) is not available here (a container, or not Linux).",
        "Run the watcher yourself instead, e.g. from your shell's login file:",
        f"  nohup {command} >/dev/null 2>&1 &",
        "or let tmux start it: see `tmux-guardian tmux-conf --watch`.",
    ]


def install(arguments: list[str], systemctl: Systemctl) -> tuple[int, list[str]]:
    program = program_path()
    if not systemctl.available():
        return 1, fallback_instructions(program, arguments)
    path = unit_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    content = render_unit(program, arguments)
    changed = not path.exists() or path.read_text() != content
    if changed:
        path.write_text(content)
    lines = [f"{'wrote' if changed else 'unchanged'} {path}"]
    for args in (("daemon-reload",), ("enable", "--now", UNIT_NAME)):
        done = systemctl.run(*args)
        if done.returncode != 0:
            return 1, [
                *lines,
                f"systemctl --user {' '.join(args)} failed: {(done.stderr or done.stdout).strip()}",
            ]
    lines += [
        f"enabled and started {UNIT_NAME}",
        "To keep it (and your tmux sessions) running after you log out:",
        f"  loginctl enable-linger {os.environ.get('USER', '$USER')}",
    ]
    return 0, lines


def uninstall(systemctl: Systemctl) -> tuple[int, list[str]]:
    path = unit_path()
    lines = []
    if systemctl.available():
        systemctl.run("disable", "--now", UNIT_NAME)
    if path.exists():
        path.unlink()
        lines.append(f"removed {path}")
        if systemctl.available():
            systemctl.run("daemon-reload")
    else:
        lines.append(f"not installed ({path} does not exist)")
    return 0, lines


def status(systemctl: Systemctl) -> tuple[int, list[str]]:
    path = unit_path()
    lines = [f"unit file: {path} ({'present' if path.exists() else 'absent'})"]
    if not systemctl.available():
        lines.append("systemd user manager: not available")
        return (0 if not path.exists() else 1), lines
    active = systemctl.run("is-active", UNIT_NAME).stdout.strip() or "unknown"
    enabled = systemctl.run("is-enabled", UNIT_NAME).stdout.strip() or "unknown"
    lines.append(f"{UNIT_NAME}: {active}, {enabled}")
    return (0 if active == "active" or not path.exists() else 1), lines
