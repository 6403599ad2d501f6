"""The one rule on what may run, as a table: pure, no tmux. Every argument rule, the
executable checks, trust, per-pane choices, control characters, environment names."""

from __future__ import annotations

import pytest

from config.rules import ArgumentRule
from config.settings import Settings
from recovery.may_run import Executable, LaunchMode, Recorded, Trust, decide
from recovery.may_run.arguments import argument_refusal
from recovery.may_run.environment import environment_refusal
from recovery.may_run.text import typing_refusal, visible
from recovery.models import PaneChoice, ProgramState

SETTINGS = Settings()
BIN = {name: f"/usr/bin/{name}" for name in SETTINGS.allowlist}


def resolve(argv0: str) -> Executable:
    """This 'machine': every allowlisted program in /usr/bin, vim really vim.basic."""
    name = argv0.rsplit("/", 1)[-1]
    real = {"vim": "/usr/bin/vim.basic"}.get(name, BIN.get(name))
    path = real if "/" not in argv0 or argv0 in (BIN.get(name), real) else None
    if argv0.startswith("/tmp/"):
        path = argv0
    return Executable(path=path, named=real)


def program(*argv: str, exe: str | None = "same") -> Recorded:
    recorded = resolve(argv[0]).path if exe == "same" else exe
    return Recorded(ProgramState(argv=argv, pid=1, started_at=1.0, exe=recorded))


def mode(recorded: Recorded, trust: Trust = Trust.OWN, settings: Settings = SETTINGS) -> str:
    decision = decide(recorded, trust, settings, resolve)
    return decision.mode.value if decision else "none"


@pytest.mark.parametrize(
    "argv",
    [
        ("vim", "notes.txt"),
        ("vim", "+42", "notes.txt"),
        ("vim", "+", "notes.txt"),
        ("vim", "+/pattern", "x"),
        ("vim", "-n", "file with spaces.txt"),
        ("vim", "-R", "-O", "a", "b"),
        ("vim", "--", "+!rm", "-c"),  # file names after --
        ("nvim", "-d", "a", "b"),
        ("less", "-S", "log"),
        ("less", "+G", "log"),
        ("less", "+F", "log"),
        ("less", "+/ERROR", "log"),
        ("more", "+10", "log"),
        ("man", "ls"),
        ("man", "5", "crontab"),
        ("tail", "-f", "-n", "100", "app.log"),
        ("top",),
        ("htop", "-d", "10"),
        ("ssh", "host"),
        ("ssh", "-p", "2222", "-i", "key", "user@host"),
        ("ssh", "-o", "ServerAliveInterval=30", "host"),
        ("ssh", "-L", "8080:localhost:80", "host"),
        ("mosh", "host"),
        ("emacs", "-nw", "notes.org"),
        ("nano", "-w", "file"),
    ],
)
def test_harmless_arguments_run(argv: tuple[str, ...]) -> None:
    assert mode(program(*argv)) == "run", argv


@pytest.mark.parametrize(
    ("argv", "why"),
    [
        (("vim", "+!touch x", "f"), "is a command"),
        (("vim", "+call system('x')", "f"), "is a command"),
        (("vim", "-c", "!touch x"), "-c"),
        (("vim", "-c!touch x"), "-c"),
        (("vim", "--cmd", "x"), "--cmd"),
        (("vim", "--cmd=x"), "--cmd"),
        (("vim", "-S", "Session.vim"), "-S"),
        (("vim", "-u", "evil.vim"), "-u"),
        (("vim", "-s", "keys"), "-s"),
        (("nvim", "-l", "script.lua"), "-l"),
        (("vim", "--remote-send", ":!x<CR>"), "--remote-send"),
        (("view", "+!x", "f"), "is a command"),
        (("less", "+!touch x", "f"), "is a command"),
        (("less", "+|cmd", "f"), "is a command"),
        (("less", "-k", "keys", "f"), "-k"),
        (("less", "-o", "out", "f"), "-o"),
        (("more", "+!x", "f"), "is a command"),
        (("man", "-P", "sh -c x", "ls"), "-P"),
        (("man", "--pager=x", "ls"), "--pager"),
        (("man", "-H", "ls"), "-H"),
        (("ssh", "-o", "ProxyCommand=sh -c x", "h"), "ProxyCommand"),
        (("ssh", "-oProxyCommand=x", "h"), "ProxyCommand"),
        (("ssh", "-o", "proxycommand x", "h"), "proxycommand"),
        (("ssh", "-o", "LocalCommand=x", "h"), "LocalCommand"),
        (("ssh", "-o", "KnownHostsCommand=x", "h"), "KnownHostsCommand"),
        (("ssh", "-o", "Match exec x", "h"), "Match"),
        (("ssh", "-F", "evil_config", "h"), "-F"),
        (("ssh", "host", "rm", "-rf", "~"), "command after the destination"),
        (("ssh", "-p", "22", "host", "uptime"), "command after the destination"),
        (("mosh", "--ssh=ssh -o ProxyCommand=x", "h"), "--ssh"),
        (("mosh", "--client=/tmp/x", "h"), "--client"),
        (("mosh", "h", "--", "rm", "x"), "command after the destination"),
        (("emacs", "--eval", '(shell-command "x")'), "--eval"),
        (("emacs", "-l", "evil.el"), "-l"),
        (("emacs", "-f", "kill-emacs"), "-f"),
        (("nano", "--rcfile", "x"), "--rcfile"),
        (("watch", "-n", "1", "date"), "never"),
        (("watch", "ls"), "never"),
    ],
)
def test_arguments_that_run_commands_are_held(argv: tuple[str, ...], why: str) -> None:
    decision = decide(program(*argv), Trust.OWN, SETTINGS, resolve)
    assert decision is not None and decision.mode is LaunchMode.HOLD, argv
    assert why in decision.reason


def test_user_rules_add_to_the_built_in_ones() -> None:
    settings = Settings(
        allowlist=("psql", "vim"),
        rules=(ArgumentRule(programs=("psql",), options=("-c", "--command")),),
    )
    BIN["psql"] = "/usr/bin/psql"
    try:
        assert mode(program("psql", "db"), settings=settings) == "run"
        assert mode(program("psql", "-c", "drop table x", "db"), settings=settings) == "hold"
        assert mode(program("vim", "+!x"), settings=settings) == "hold"  # built-in stays
    finally:
        del BIN["psql"]


@pytest.mark.parametrize(
    ("recorded", "why"),
    [
        (program("rm", "-rf", "x"), "not on the allowlist"),
        (program("/tmp/evil/vim", "f"), "is not the vim found on PATH"),
        (program("vim", "f", exe="/usr/bin/sleep"), "is what ran"),  # exec -a vim sleep
        (program("vim", "f", exe=None), "was not recorded"),
        (program("nosuch"), "not on the allowlist"),
    ],
)
def test_the_executable_must_be_what_ran(recorded: Recorded, why: str) -> None:
    decision = decide(recorded, Trust.OWN, SETTINGS, resolve)
    assert decision is not None and decision.mode is LaunchMode.HOLD
    assert why in decision.reason


def test_a_script_runs_when_its_interpreter_is_what_ran() -> None:
    def node_script(argv0: str) -> Executable:
        return Executable(
            path="/usr/lib/node_modules/x/cli.js", interpreter="/usr/bin/node",
            named="/usr/lib/node_modules/x/cli.js",
        )  # fmt: skip

    settings = Settings(allowlist=("claude",))
    recorded = Recorded(ProgramState(argv=("claude",), pid=1, started_at=1, exe="/usr/bin/node"))
    decision = decide(recorded, Trust.OWN, settings, node_script)
    assert decision is not None and decision.mode is LaunchMode.RUN
    python = Recorded(ProgramState(argv=("claude",), pid=1, started_at=1, exe="/usr/bin/python3"))
    decision = decide(python, Trust.OWN, settings, node_script)
    assert decision is not None and decision.mode is LaunchMode.HOLD


@pytest.mark.parametrize(
    ("exe", "runs"),
    [
        ("/usr/bin/python3.11", True),  # the pane's PATH found another python3 than ours
        ("/opt/py/bin/python3", True),
        ("/usr/bin/python3-evil", False),
        ("/tmp/x/sh", False),
        ("/usr/bin/python2.7", False),
    ],
)
def test_an_env_script_runs_under_any_interpreter_of_the_name_it_gives(
    exe: str, runs: bool
) -> None:
    def env_script(argv0: str) -> Executable:
        return Executable(
            path="/home/u/.local/bin/aider", interpreter="/home/u/.pyenv/shims/python3",
            interpreter_name="python3", named="/home/u/.local/bin/aider",
        )  # fmt: skip

    settings = Settings(allowlist=("aider",))
    recorded = Recorded(ProgramState(argv=("aider",), pid=1, started_at=1, exe=exe))
    decision = decide(recorded, Trust.OWN, settings, env_script)
    assert decision is not None and (decision.mode is LaunchMode.RUN) is runs


@pytest.mark.parametrize(
    ("trust", "expected", "why"),
    [
        (Trust.OWN, "run", "allowlisted"),
        (Trust.FOREIGN, "hold", "not your checkpoint"),
        (Trust.IMPORTED, "hold", "not vouched"),
        (Trust.VOUCHED, "run", "vouched"),
    ],
)
def test_trust_is_the_ceiling(trust: Trust, expected: str, why: str) -> None:
    decision = decide(program("tail", "-f", "log"), trust, SETTINGS, resolve)
    assert decision is not None and decision.mode.value == expected and why in decision.reason


def test_vouched_shell_text_runs_as_written_and_unvouched_is_held() -> None:
    text = Recorded(None, ("tail -f logs/*.log | grep ERROR", "echo done"))
    vouched = decide(text, Trust.VOUCHED, SETTINGS, resolve)
    assert vouched is not None and vouched.mode is LaunchMode.RUN
    assert vouched.text == "tail -f logs/*.log | grep ERROR; echo done"
    assert vouched.argv is None  # shell text, never split into argv and joined again
    for trust in (Trust.IMPORTED, Trust.FOREIGN, Trust.OWN):
        assert mode(text, trust) == "hold"


def test_a_choice_made_for_the_exact_command_raises_the_ceiling() -> None:
    base = program("make", "deploy")
    line = "make deploy"
    chosen = Recorded(base.program, choice=PaneChoice(mode="run", command=line))
    assert mode(base) == "hold"
    assert mode(chosen) == "run"
    other = Recorded(base.program, choice=PaneChoice(mode="run", command="make test"))
    assert mode(other) == "hold"  # made for another command
    assert mode(chosen, Trust.FOREIGN) == "hold"  # a foreign file's "choice" is nobody's
    shell = Recorded(program("vim", "x").program, choice=PaneChoice(mode="shell", command="vim x"))
    assert mode(shell) == "shell"


@pytest.mark.parametrize("bad", ["\x15", "\r", "\n", "\x1b", "\x7f", "\x9b", "\x00", "\t"])
def test_control_characters_are_never_typed(bad: str) -> None:
    recorded = program("vim", f"x{bad}touch y")
    for trust in Trust:
        decision = decide(recorded, trust, SETTINGS, resolve)
        assert decision is not None and decision.mode is LaunchMode.SHELL
        assert "never typed" in decision.reason and decision.text == ""
    assert typing_refusal(f"a{bad}b") is not None


def test_typing_turned_off_gives_a_shell() -> None:
    settings = Settings(type_unlisted_commands=False)
    assert mode(program("make", "deploy"), settings=settings) == "shell"


def test_visible_shows_every_control_character() -> None:
    shown = visible("a\x1b]0;x\x07\x15\x7f\x9bz")
    assert shown == "a^[]0;x^G^U^?\\x9bz"
    assert all(ord(c) >= 0x20 and not 0x7F <= ord(c) <= 0x9F for c in shown)


@pytest.mark.parametrize(
    ("name", "allowed"),
    [("LANG", True), ("LC_ALL", True), ("TZ", True), ("LD_PRELOAD", False), ("PATH", False),
     ("PROMPT_COMMAND", False), ("BASH_ENV", False), ("ENV", False), ("LESSOPEN", False),
     ("PYTHONSTARTUP", False), ("SECRET_TOKEN", False), ("GIT_SSH_COMMAND", False)],
)  # fmt: skip
def test_environment_names(name: str, allowed: bool) -> None:
    assert (environment_refusal(name, SETTINGS.environment) is None) is allowed


def test_never_listed_names_stay_refused_whatever_the_config() -> None:
    assert environment_refusal("LD_PRELOAD", ("*",)) is not None
    assert environment_refusal("MY_VAR", ("MY_*",)) is None


def test_argument_rules_are_only_for_their_programs() -> None:
    assert argument_refusal("cat", ["+!x", "-c", "y"]) is None
    assert argument_refusal("vim", ["-cfoo"]) is not None
    assert argument_refusal("vim", ["--clean"]) is None  # not --cmd, not -c
