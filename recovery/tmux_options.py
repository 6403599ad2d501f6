"""Which tmux options a checkpoint or an imported file may set, and to what. Options are
not commands, but some are: `default-command` runs in every new pane, `default-shell` is
the program every pane starts, and a format's `#(...)` is a command tmux runs
(`status-right`, `automatic-rename-format`, ...). So, from a file nobody vouched for, only
options whose values are a flag, a number, a size or one of a few words are set; anything
else is named, not set. A file the person vouched for sets what it says, as `tmuxp load`
would: `default-command` and `default-shell` are listed with the commands they vouch for.
Never from any file: a value holding `#(` (its command is not among those listed, and
tmux would run it again and again) or a control character."""

from __future__ import annotations

import re
from typing import Literal

from recovery.may_run.text import control_characters

Scope = Literal["window", "session", "global"]

FLAGS = frozenset(
    {
        "synchronize-panes", "automatic-rename", "aggressive-resize", "monitor-activity",
        "monitor-bell", "allow-rename", "alternate-screen", "wrap-search",
        # session (and global) options
        "mouse", "renumber-windows", "set-titles", "visual-activity", "visual-bell",
        "focus-events",
    }
)  # fmt: skip
NUMBERS = frozenset(
    {
        "pane-base-index", "monitor-silence", "history-limit", "base-index", "display-time",
        "display-panes-time", "repeat-time", "status-interval", "escape-time",
        "message-limit", "lock-after-time",
    }
)  # fmt: skip
SIZES = frozenset({"main-pane-height", "main-pane-width"})
WORDS: dict[str, frozenset[str]] = {
    "mode-keys": frozenset({"vi", "emacs"}),
    "status-keys": frozenset({"vi", "emacs"}),
    "remain-on-exit": frozenset({"on", "off", "failed"}),
    "window-size": frozenset({"largest", "smallest", "manual", "latest"}),
    "pane-border-status": frozenset({"off", "top", "bottom"}),
    "pane-border-lines": frozenset({"single", "double", "heavy", "simple", "number"}),
    "clock-mode-style": frozenset({"12", "24"}),
    "status": frozenset({"on", "off", "2", "3", "4", "5"}),
    "status-position": frozenset({"top", "bottom"}),
    "status-justify": frozenset({"left", "centre", "right", "absolute-centre"}),
    "activity-action": frozenset({"any", "none", "current", "other"}),
    "bell-action": frozenset({"any", "none", "current", "other"}),
    "silence-action": frozenset({"any", "none", "current", "other"}),
}
RUNS = frozenset({"default-command", "default-shell"})
"""Session options that start programs: every pane created afterwards runs them."""
_NAME = re.compile(r"@?[a-z][a-z0-9-]{0,63}")


def option_value(value: object) -> str:
    """A file's value as tmux takes it (YAML's true is `on`)."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def option_refusal(scope: Scope, name: str, value: str, *, vouched: bool = False) -> str | None:
    """Why `name value` is not set (on a window, a session, or the whole server), or None
    when it may be."""
    shown = f"{scope} option {name[:40]!r} = {value[:40]!r} not set"
    if not _NAME.fullmatch(name):
        return f"{shown} (not an option name)"
    if control_characters(value):
        return f"{shown} (it holds control characters)"
    if "#(" in value:
        return f"{shown} (it holds #(...), a command tmux would run)"
    if vouched:
        return None
    if name in RUNS:
        return f"{shown} (it starts a program in every pane; vouch for the file to set it)"
    if _plain(name, value):
        return None
    known = name in FLAGS | NUMBERS | SIZES or name in WORDS
    why = (
        "not a value it takes"
        if known
        else "not an option set from a file you have not vouched for"
    )
    return f"{shown} ({why})"


def _plain(name: str, value: str) -> bool:
    if name in FLAGS and value in ("on", "off"):
        return True
    if name in NUMBERS and re.fullmatch(r"[0-9]{1,9}", value):
        return True
    if name in SIZES and re.fullmatch(r"[0-9]{1,5}%?", value):
        return True
    return value in WORDS.get(name, ())
