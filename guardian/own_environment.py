"""Variables this process set for its own sake (never the person's): kept out of the
environment of every tmux it runs, since a server it starts hands its environment to
every pane (a person's shells must not inherit our settings)."""

from __future__ import annotations

import os

OWN: set[str] = set()


def set_for_ourselves(name: str, value: str) -> None:
    """Set `name` for this process unless the person already did (then it is theirs)."""
    if name not in os.environ:
        os.environ[name] = value
        OWN.add(name)


def for_children() -> dict[str, str]:
    """Our environment without what we set for ourselves, nor `TMUX` (a nesting check
    or `$TMUX` must never pick another server)."""
    env = {k: v for k, v in os.environ.items() if k not in OWN}
    env.pop("TMUX", None)
    return env
