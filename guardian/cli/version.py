"""The program's name and version, without loading anything else (`--version` alone is
answered from here, before the parser and the config models load)."""

from __future__ import annotations

PROG = "tmux-guardian"


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed(PROG)
    except PackageNotFoundError:
        return "unknown"
