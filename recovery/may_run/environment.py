"""Environment variables that may come back with a program: only names on an allowlist,
and never one that makes a program load code or run a command."""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase

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
