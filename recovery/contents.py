"""Pane text replayed into a new pane: printable text, newlines, tabs and SGR colour
sequences only. Any other escape could make the terminal answer with input (a device
status or title report typed into the new shell), so it is dropped."""

from __future__ import annotations

import re

# An SGR sequence (`ESC [ params m`), any other escape sequence, or one control character.
_TOKENS = re.compile(
    r"(?P<sgr>\x1b\[[0-9;:]*m)"
    r"|(?P<escape>\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_]|.)?)"
    r"|(?P<control>[\x00-\x08\x0b-\x1f\x7f-\x9f])"
)


def replayable(text: str) -> str:
    """`text` with only what is safe to write to a terminal again."""
    return _TOKENS.sub(lambda m: m.group("sgr") or "", text)
