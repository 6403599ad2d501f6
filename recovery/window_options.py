"""Which window options a checkpoint or an imported file may set, and to what: options are
not commands, but many take formats, and a format's `#(...)` is a command tmux runs
(`automatic-rename-format`, `pane-border-format`, ...). Only options whose values are a
flag, a number, a size or one of a few words are set; anything else is named, not set."""

from __future__ import annotations

import re

FLAGS = frozenset(
    {
        "synchronize-panes", "automatic-rename", "aggressive-resize", "monitor-activity",
        "monitor-bell", "allow-rename", "alternate-screen", "wrap-search",
    }
)  # fmt: skip
NUMBERS = frozenset({"pane-base-index", "monitor-silence", "history-limit"})
SIZES = frozenset({"main-pane-height", "main-pane-width"})
WORDS: dict[str, frozenset[str]] = {
    "mode-keys": frozenset({"vi", "emacs"}),
    "remain-on-exit": frozenset({"on", "off", "failed"}),
    "window-size": frozenset({"largest", "smallest", "manual", "latest"}),
    "pane-border-status": frozenset({"off", "top", "bottom"}),
    "pane-border-lines": frozenset({"single", "double", "heavy", "simple", "number"}),
    "clock-mode-style": frozenset({"12", "24"}),
}


def option_value(value: object) -> str:
    """A file's value as tmux takes it (YAML's true is `on`)."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def window_option_refusal(name: str, value: str) -> str | None:
    """Why `name value` is not set on a window, or None when it may be."""
    if name in FLAGS and value in ("on", "off"):
        return None
    if name in NUMBERS and re.fullmatch(r"[0-9]{1,9}", value):
        return None
    if name in SIZES and re.fullmatch(r"[0-9]{1,5}%?", value):
        return None
    if value in WORDS.get(name, ()):
        return None
    known = name in FLAGS | NUMBERS | SIZES or name in WORDS
    why = "not a value it takes" if known else "not an option set from a file"
    return f"option {name!r} = {value[:40]!r} not set ({why})"
