"""Text that reaches a terminal: typed text never holds a control character (tmux's
`send-keys -l` sends them as keys: Ctrl-U and Enter inside "typed, not run" text erase the
line and run what follows), and text shown to a person shows its control characters."""

from __future__ import annotations

import re

# C0, DEL and C1: every character a terminal may act on instead of showing.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def control_characters(text: str) -> list[str]:
    """The control characters in `text`, each as a person can read it (`\\x15`)."""
    return sorted({f"\\x{ord(c):02x}" for c in _CONTROL.findall(text)})


def typing_refusal(text: str) -> str | None:
    """Why `text` may not be typed into a pane, or None when it may."""
    found = control_characters(text)
    if not found:
        return None
    return f"holds control characters ({', '.join(found)}): never typed"


def visible(text: str) -> str:
    """`text` with every control character shown, never acted on: ESC as `^[`, other C0
    characters as `^X`, DEL as `^?`, C1 characters as `\\x9b`."""

    def show(match: re.Match[str]) -> str:
        code = ord(match.group())
        if code < 0x20:
            return "^" + chr(code + 0x40)
        if code == 0x7F:
            return "^?"
        return f"\\x{code:02x}"

    return _CONTROL.sub(show, text)
