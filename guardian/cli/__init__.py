"""The command line: a parser, one module per group of commands, and the entry point that
turns every failure into one line and an exit code (0 ok, 1 failure, 2 bad usage)."""

from guardian.cli.entry import main

__all__ = ["main"]
