"""The command line: a parser, one module per group of commands, and the entry point that
turns every failure into one line and an exit code (0 ok, 1 failure, 2 bad usage)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """The entry point (`guardian.cli.entry`). `--version` alone is answered before the
    rest loads: scripts ask it often, and the rest costs a third of a second."""
    if list(sys.argv[1:] if argv is None else argv) == ["--version"]:
        from guardian.cli.version import PROG, version

        print(f"{PROG} {version()}")
        return 0
    from guardian.cli.entry import main as run

    return run(argv)


__all__ = ["main"]
