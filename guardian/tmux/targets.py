"""Which tmux server: named like tmux's own `-L NAME` / `-S PATH`, known by socket path."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def socket_dir() -> Path:
    """The directory tmux puts `-L` sockets in: `$TMUX_TMPDIR` (or /tmp) + `/tmux-UID`."""
    base = os.environ.get("TMUX_TMPDIR") or "/tmp"
    return Path(os.path.realpath(base)) / f"tmux-{os.geteuid()}"


@dataclass(frozen=True)
class ServerTarget:
    """A guarded server. Every tmux call names its socket with `-S` explicitly, so a
    guardian running inside tmux never talks to the server it happens to sit in."""

    socket_path: str
    label: str

    @classmethod
    def named(cls, name: str) -> ServerTarget:
        return cls(str(socket_dir() / name), name if name != "default" else "default")

    @classmethod
    def at_path(cls, path: str) -> ServerTarget:
        return cls(os.path.abspath(os.path.expanduser(path)), path)

    @classmethod
    def parse(cls, spec: str) -> ServerTarget:
        """A config `servers` entry: a path (contains `/`) or a socket name."""
        return cls.at_path(spec) if "/" in spec else cls.named(spec)

    @classmethod
    def default(cls) -> ServerTarget:
        return cls.named("default")
