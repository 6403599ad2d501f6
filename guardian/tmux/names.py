"""How text reaches tmux unchanged: command-list separators, format expansion, and the
vis(3) encoding tmux applies to session names."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence


def tmux_arg(value: str) -> str:
    """Protect one argument of a tmux command list: a trailing `;` would end the command."""
    return value[:-1] + "\\;" if value.endswith(";") else value


def format_literal(value: str) -> str:
    """Text for an argument tmux expands as a format (-s -n -c -T): `#` must not start one."""
    return value.replace("#", "##")


_UNVIS_SIMPLE = {
    "\\": "\\",
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "a": "\a",
    "v": "\v",
    "f": "\f",
}


def vis_session_name(name: str) -> str:
    """A name as a person types it, in the form tmux stores and reports it."""
    out: list[str] = []
    for char in name:
        if char == "\\":
            out.append("\\\\")
        elif char in "\n\t\r\b\a\v\f":
            out.append("\\" + next(k for k, v in _UNVIS_SIMPLE.items() if v == char))
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\{ord(char):03o}")
        else:
            out.append(char)
    return "".join(out)


def unvis_session_name(name: str) -> str:
    """The name to pass to `new-session -s` so that tmux stores `name` again.

    tmux keeps session names vis(3)-encoded (C-style, octal): a backslash is stored as two,
    a control character as `\\ooo`. Passing the stored form back would encode it twice.
    """
    if "\\" not in name:
        return name
    out: list[str] = []
    i = 0
    while i < len(name):
        char = name[i]
        if char != "\\" or i + 1 == len(name):
            out.append(char)
            i += 1
            continue
        nxt = name[i + 1]
        if nxt in _UNVIS_SIMPLE:
            out.append(_UNVIS_SIMPLE[nxt])
            i += 2
            continue
        digits = ""
        while (
            len(digits) < 3
            and i + 1 + len(digits) < len(name)
            and name[i + 1 + len(digits)] in "01234567"
        ):
            digits += name[i + 1 + len(digits)]
        if digits:
            out.append(chr(int(digits, 8)))
            i += 1 + len(digits)
        else:
            out.append(nxt)
            i += 2
    return "".join(out)


def command_list(commands: Iterable[Sequence[str]]) -> list[str]:
    """Join commands into one argv for a single tmux invocation, separated by `;`."""
    argv: list[str] = []
    for command in commands:
        if argv:
            argv.append(";")
        argv.extend(tmux_arg(part) for part in command)
    return argv


def exact_argv(argv: Sequence[str] | None) -> list[str]:
    """An argv for new-session/split-window/respawn-pane that tmux runs exactly: several
    words are exec'd as they are; one word would go through `sh -c`, so it is quoted."""
    if not argv:
        return []
    return list(argv) if len(argv) > 1 else [f"exec {shlex.quote(argv[0])}"]
