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

_CODEX_SAFE_KEYS = (
    "model",
    "model_provider",
    "model_reasoning_effort",
    "model_reasoning_summary",
    "model_verbosity",
    "hide_agent_reasoning",
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
    # AI coding agents (facts: shared/PROGRAMS.md). Options that load code or run commands
    # are refused; permission bypasses come back only when allowed.
    ArgumentRule(
        programs=("claude",),
        options=(
            "--settings",
            "--mcp-config",
            "--plugin-dir",
            "--agents",
            "--dangerously-load-development-channels",
        ),
        bypass=("--dangerously-skip-permissions", "--allow-dangerously-skip-permissions"),
        bypass_values={"--permission-mode": ("bypasspermissions",)},
    ),
    ArgumentRule(
        programs=("codex",),
        options=("--enable",),
        # `-c notify=[...]`, `mcp_servers.x.command`, `hooks...` run programs: only keys
        # that choose a model pass
        only_values={
            "-c": _CODEX_SAFE_KEYS,
            "--config": _CODEX_SAFE_KEYS,
        },
        bypass=("--dangerously-bypass-approvals-and-sandbox", "--yolo"),
        bypass_values={
            "-s": ("danger-full-access",),
            "--sandbox": ("danger-full-access",),
            "-a": ("never",),
            "--ask-for-approval": ("never",),
        },
    ),
    ArgumentRule(
        programs=("gemini",),
        bypass=("-y", "--yolo"),
        bypass_values={"--approval-mode": ("yolo",)},
    ),
    ArgumentRule(
        programs=("aider",),
        options=(
            "--test-cmd",
            "--lint-cmd",
            "--load",
            "--notifications-command",
            "--editor",
            "--message",
            "-m",
            "--message-file",
            "-f",
            "--apply",
            "--set-env",
            "--git-commit-verify",
        ),
        bypass=("--yes-always",),
    ),
)

# `+42`, `+`, `+G`, `+F`, `+/pattern`: line numbers, search, follow. Anything else after
# `+` is a command (`+!cmd` runs a shell in vim and less).
_HARMLESS_PLUS = re.compile(r"^\+(\d*|\d*[GgFNn%]|/[^!|]*)$")


def rules_for(program: str, extra: Sequence[ArgumentRule] = ()) -> list[ArgumentRule]:
    return [r for r in (*BUILT_IN_RULES, *extra) if program in r.programs]


def argument_refusal(
    program: str,
    arguments: Sequence[str],
    extra: Sequence[ArgumentRule] = (),
    exempt: Sequence[tuple[str, str]] = (),
) -> str | None:
    """Why `program` may not start by itself with these `arguments` (argv without argv[0]),
    or None when its arguments pass every rule for it. `exempt`: an option and its value
    a program strategy verified (`-S` and a Session.vim that is the person's, unchanged)."""
    arguments = _without_exempt(arguments, exempt)
    for rule in rules_for(program, extra):
        if rule.never is not None:
            return f"{program} never starts by itself: {rule.never}"
        why = _refused_option(rule, arguments) or _refused_remote_command(rule, arguments)
        if why is not None:
            return f"{program}: {why}"
    return None


def _without_exempt(arguments: Sequence[str], exempt: Sequence[tuple[str, str]]) -> list[str]:
    kept: list[str] = []
    skip = False
    for position, argument in enumerate(arguments):
        if skip:
            skip = False
            continue
        following = arguments[position + 1] if position + 1 < len(arguments) else None
        if (argument, following) in exempt:
            skip = True
            continue
        kept.append(argument)
    return kept


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
        for option, keys in rule.only_values.items():
            value = _value_of(arguments, position, option)
            if value is not None and _config_key(value) not in keys:
                return f"option {option} {value.split('=')[0]} may run a command"
    return None


def permission_bypass(
    program: str, arguments: Sequence[str], extra: Sequence[ArgumentRule] = ()
) -> list[tuple[int, int]]:
    """Where an agent's permission-bypass options are in `arguments`: (position, how many
    words), `--yolo` one, `--permission-mode bypassPermissions` two."""
    found: list[tuple[int, int]] = []
    for rule in rules_for(program, extra):
        for position, argument in enumerate(arguments):
            if argument == "--":
                break
            if argument in rule.bypass:
                found.append((position, 1))
            for option, values in rule.bypass_values.items():
                value = _value_of(arguments, position, option)
                if value is not None and value.lower() in values:
                    found.append((position, 1 if argument != option else 2))
    return sorted(set(found))


def without_bypass(
    program: str, arguments: Sequence[str], extra: Sequence[ArgumentRule] = ()
) -> tuple[list[str], list[str]]:
    """`arguments` without permission-bypass options, and the words taken out."""
    doomed = {p + i for p, n in permission_bypass(program, arguments, extra) for i in range(n)}
    kept = [a for i, a in enumerate(arguments) if i not in doomed]
    return kept, [a for i, a in enumerate(arguments) if i in doomed]


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
