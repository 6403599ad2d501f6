"""Per-program argument rules: the options that make an allowlisted program run a command
or load code are refused, so `vim '+!cmd'`, `less '+!cmd'`, `man -P cmd`, `ssh -o
ProxyCommand=cmd` and `watch 'cmd'` never start by themselves again.

A rule names programs and what of their argv is refused. People extend the built-in rules
in config (`[[rules]]`); their refusals add to these, never replace them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from config.rules import ArgumentRule

_SSH_COMMAND_KEYS = (
    "proxycommand",
    "localcommand",
    "permitlocalcommand",
    "knownhostscommand",
    "match",
    "remotecommand",
)

BUILT_IN_RULES: tuple[ArgumentRule, ...] = (
    ArgumentRule(
        programs=("vi", "vim", "nvim", "view", "vimdiff", "nvi", "rvim", "gvim", "ex"),
        options=(
            "-c",
            "--cmd",
            "-S",
            "-u",
            "-U",
            "-s",
            "-l",
            "--remote-send",
            "--remote-expr",
            "--remote",
            "--remote-silent",
            "--remote-tab",
            "--remote-wait",
        ),
        plus_commands=True,
    ),
    ArgumentRule(
        programs=("less", "more"),
        options=(
            "-k",
            "--lesskey-file",
            "--lesskey-src",
            "--lesskey-content",
            "-o",
            "-O",
            "--log-file",
            "--LOG-FILE",
        ),
        plus_commands=True,
    ),
    ArgumentRule(
        programs=("man",),
        options=("-P", "--pager", "-H", "--html", "-C", "--config-file", "-X", "--gxditview"),
    ),
    ArgumentRule(
        programs=("ssh",),
        options=("-F", "-E"),
        option_values={"-o": _SSH_COMMAND_KEYS},
        remote_command=True,
        value_options=(
            "-B",
            "-b",
            "-c",
            "-D",
            "-E",
            "-e",
            "-F",
            "-I",
            "-i",
            "-J",
            "-L",
            "-l",
            "-m",
            "-O",
            "-o",
            "-p",
            "-Q",
            "-R",
            "-S",
            "-W",
            "-w",
        ),
    ),
    ArgumentRule(
        programs=("mosh",),
        options=("--ssh", "--client", "--server"),
        remote_command=True,
        value_options=("-p", "--port", "--predict", "--family", "--bind-server"),
    ),
    ArgumentRule(
        programs=("emacs", "emacsclient"),
        options=(
            "--eval",
            "-eval",
            "-l",
            "--load",
            "-f",
            "--funcall",
            "--execute",
            "-execute",
            "-u",
            "--user",
            "--init-directory",
            "--script",
            "-x",
            "-batch",
            "--batch",
            "-e",
        ),
    ),
    ArgumentRule(programs=("nano",), options=("-f", "--rcfile", "-s", "--speller")),
    ArgumentRule(programs=("watch",), never="its argument is a command, run again and again"),
)

# `+42`, `+`, `+G`, `+F`, `+/pattern`: line numbers, search, follow. Anything else after
# `+` is a command (`+!cmd` runs a shell in vim and less).
_HARMLESS_PLUS = re.compile(r"^\+(\d*|\d*[GgFNn%]|/[^!|]*)$")


def rules_for(program: str, extra: Sequence[ArgumentRule] = ()) -> list[ArgumentRule]:
    return [r for r in (*BUILT_IN_RULES, *extra) if program in r.programs]


def argument_refusal(
    program: str, arguments: Sequence[str], extra: Sequence[ArgumentRule] = ()
) -> str | None:
    """Why `program` may not start by itself with these `arguments` (argv without argv[0]),
    or None when its arguments pass every rule for it."""
    for rule in rules_for(program, extra):
        if rule.never is not None:
            return f"{program} never starts by itself: {rule.never}"
        why = _refused_option(rule, arguments) or _refused_remote_command(rule, arguments)
        if why is not None:
            return f"{program}: {why}"
    return None


def _refused_option(rule: ArgumentRule, arguments: Sequence[str]) -> str | None:
    refused = set(rule.options)
    for position, argument in enumerate(arguments):
        if argument == "--":
            return None  # what follows are file names, even `+x` or `-c`
        if rule.plus_commands and argument.startswith("+") and not _HARMLESS_PLUS.match(argument):
            return f"'{argument}' is a command"
        for option in refused:
            if argument == option or _attached(argument, option):
                return f"option {option} runs a command or loads code"
        for option, keys in rule.option_values.items():
            value = _value_of(arguments, position, option)
            if value is not None and _config_key(value) in keys:
                return f"option {option} {value.split('=')[0]} runs a command"
    return None


def _attached(argument: str, option: str) -> bool:
    """`-cfoo` for `-c`, `--cmd=x` for `--cmd`; never `-ccc` for `-c` of a long option."""
    if option.startswith("--"):
        return argument.startswith(option + "=")
    return argument.startswith(option) and len(option) == 2 and not argument.startswith("--")


def _value_of(arguments: Sequence[str], position: int, option: str) -> str | None:
    argument = arguments[position]
    if argument == option:
        return arguments[position + 1] if position + 1 < len(arguments) else None
    if _attached(argument, option):
        return argument[len(option) :].lstrip("=")
    return None


def _config_key(value: str) -> str:
    """`ProxyCommand=x` or `ProxyCommand x` -> `proxycommand` (ssh keys ignore case)."""
    return re.split(r"[=\s]", value.strip(), maxsplit=1)[0].lower()


def _refused_remote_command(rule: ArgumentRule, arguments: Sequence[str]) -> str | None:
    if not rule.remote_command:
        return None
    positionals: list[str] = []
    skip = False
    for argument in arguments:
        if skip:
            skip = False
            continue
        if positionals or argument == "--":
            positionals.append(argument)
            continue
        if argument.startswith("-") and len(argument) > 1:
            skip = argument in rule.value_options  # `-p 22`: the value is not the host
            continue
        positionals.append(argument)
    rest = [p for p in positionals if p != "--"]
    if len(rest) > 1:
        return "a command after the destination runs once, it is held"
    return None
