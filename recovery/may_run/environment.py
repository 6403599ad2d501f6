"""Environment variables that may come back with a program: only names on an allowlist,
and never one that makes a program load code or run a command."""

from __future__ import annotations

import re
from collections.abc import Sequence
from fnmatch import fnmatchcase

from recovery.may_run.text import control_characters

# Names that run or load code when set: never, whatever the config says.
NEVER = (
    "LD_*", "PATH", "PROMPT_COMMAND", "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4",
    "IFS", "ZDOTDIR", "PYTHONSTARTUP", "PYTHONPATH", "PYTHONHOME", "PERL5OPT", "PERL5LIB",
    "RUBYOPT", "NODE_OPTIONS", "LESSOPEN", "LESSCLOSE", "PAGER", "MANPAGER", "EDITOR",
    "VISUAL", "GIT_*", "SSH_ASKPASS", "BROWSER", "VIMINIT", "EXINIT", "MYVIMRC",
)  # fmt: skip


# Variables a program reads as more of its options: their values pass its argument rules.
OPTION_VARIABLES = {"LESS": "less", "MORE": "more"}


def environment_refusal(name: str, allowed: Sequence[str]) -> str | None:
    """Why `name` may not be set again, or None when it may (`allowed`: config
    `environment`)."""
    if any(fnmatchcase(name, pattern) for pattern in NEVER):
        return f"{name} makes programs run commands or load code: never set again"
    if not any(fnmatchcase(name, pattern) for pattern in allowed):
        return f"{name} is not on the environment allowlist"
    return None


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def file_environment_refusal(
    name: str, value: str, allowed: Sequence[str], *, vouched: bool
) -> str | None:
    """Why a variable a file gives a session or pane (a tmuxp `environment`) is not set,
    or None when it is. A file the person vouched for sets what it says, as `tmuxp load`
    does: they vouched for its commands, which could export the same; otherwise the
    allowlist holds, and never a name that runs code."""
    if not _NAME.fullmatch(name):
        return f"{name[:40]!r} is not a variable name"
    if control_characters(value):
        return f"{name}: its value holds control characters"
    if vouched:
        return None
    if any(fnmatchcase(name, pattern) for pattern in NEVER):
        return (
            f"{name} makes programs run commands or load code: set only from a file you vouch for"
        )
    if not any(fnmatchcase(name, pattern) for pattern in allowed):
        return f"{name} is not on the environment allowlist (vouch for the file to set it)"
    return None
