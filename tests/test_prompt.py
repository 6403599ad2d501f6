"""Typed only into a shell at its prompt: under bash, zsh and fish whose start-up files
are slow and ask a question (as oh-my-zsh's update check does), a restore's command is
typed at the prompt, never into the question; a shell that never reaches its prompt gets
nothing typed, and the person is told. What ran is read from /proc and the pane's text."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from guardian.tmux.prompt import Settled, ShellSample, at_prompt
from tests.conftest import PrivateServer, wait_until
from tests.test_real_crash import foreground_job

# A start-up file that takes a second, then asks a question when `ask` exists (the
# update check of a plugin manager), reporting what it read.
STARTUP = {
    "bash": (
        ".bash_profile",
        'sleep 1\nif [ -e ~/ask ]; then read -t "$(cat ~/ask)" -p "Update? [Y/n] " ans;'
        ' echo "rc read: [$ans]"; fi\nPS1="ready$ "\n',
    ),
    "zsh": (
        ".zshrc",
        'sleep 1\nif [[ -e ~/ask ]]; then read -t "$(cat ~/ask)" "ans?Update? [Y/n] ";'
        ' echo "rc read: [$ans]"; fi\nPS1="ready%% "\n',
    ),
    "fish": (
        ".config/fish/config.fish",
        "sleep 1\nif test -e ~/ask\n  echo -n 'Update? [Y/n] '\n"
        # fish's own `read` is its line editor: the check is a small script, as many are
        '  set ans (bash -c \'read -t "$1" a; echo "$a"\' _ (cat ~/ask))\n'
        '  echo "rc read: [$ans]"\nend\n'
        "set fish_greeting\nfunction fish_prompt; echo 'ready> '; end\n",
    ),
}


def sample(**changes: object) -> ShellSample:
    base = {
        "name": "bash", "state": "S", "holds_terminal": True, "raw_terminal": True, "wchan": "x",
        "cpu_ticks": 5, "busy_children": False,
    }  # fmt: skip
    base.update(changes)
    return ShellSample(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, True),
        ({"raw_terminal": False}, False),  # a `read` in a start-up file
        ({"raw_terminal": None}, False),  # terminal unreadable: never guess
        ({"holds_terminal": False}, False),  # a program holds the terminal
        ({"state": "R"}, False),
        ({"busy_children": True}, True),  # fish's completions, made in the background
        (
            {"name": "dash", "raw_terminal": False, "wchan": "wait_woken", "busy_children": True},
            False,
        ),
        ({"name": "vim"}, False),  # not a shell at all
        ({"name": "dash", "raw_terminal": False, "wchan": "wait_woken"}, True),
        ({"name": "dash", "raw_terminal": False, "wchan": "do_wait"}, False),
        ({"name": "sh", "raw_terminal": False, "wchan": "0"}, True),  # wchan hidden
        ({"name": "zsh"}, True),
        ({"name": "fish"}, True),
    ],
)
def test_what_counts_as_a_shell_at_its_prompt(changes: dict[str, object], expected: bool) -> None:
    assert at_prompt(sample(**changes)) is expected


def test_a_prompt_counts_only_once_it_held_still_for_two_samples() -> None:
    settled = Settled()
    assert not settled.judge(sample(cpu_ticks=1))
    assert not settled.judge(sample(cpu_ticks=2))  # it was still working
    assert settled.judge(sample(cpu_ticks=2))
    assert not settled.judge(sample(raw_terminal=False))
    assert not settled.judge(sample(cpu_ticks=2))  # starts over after a miss
    assert not settled.judge(None)


@pytest.fixture(params=sorted(STARTUP))
def shell_server(
    request: pytest.FixtureRequest, hermetic_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[PrivateServer, str, Path]]:
    """A server whose panes run a person's shell with a slow, questioning start-up file."""
    shell = request.param
    path = shutil.which(shell)
    if path is None:
        pytest.skip(f"{shell} is not installed")
    home = hermetic_env / "home"
    name, text = STARTUP[shell]
    (home / name).parent.mkdir(parents=True, exist_ok=True)
    (home / name).write_text(text)
    monkeypatch.setenv("SHELL", path)
    work = Path(os.path.realpath(hermetic_env)) / "work"
    work.mkdir()
    (work / "app.log").write_text("start\n")
    server = PrivateServer(Path(os.path.realpath(hermetic_env)) / "s")
    try:
        yield server, shell, work
    finally:
        server.stop()


def pane_text(t: PrivateServer) -> str:
    return t.cmd("capture-pane", "-p", "-t", "=work:")


def tail_runs(t: PrivateServer) -> bool:
    return foreground_job(int(t.lines("#{pane_pid}")[0])) == [["tail", "-f", "app.log"]]


def build_and_crash(t: PrivateServer, work: Path, guardian) -> None:  # type: ignore[no-untyped-def]
    t.cmd("new-session", "-d", "-s", "work", "-x", "120", "-y", "30", "-c", str(work))
    t.cmd("send-keys", "-t", "=work:", "-l", "tail -f app.log")
    t.cmd("send-keys", "-t", "=work:", "Enter")
    wait_until(lambda: tail_runs(t), timeout=10)
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    t.crash(kill_programs=True)


def test_the_command_is_typed_at_the_prompt_never_into_a_start_up_question(
    guardian, shell_server: tuple[PrivateServer, str, Path], hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    t, shell, work = shell_server
    build_and_crash(t, work, guardian)
    (hermetic_env / "home" / "ask").write_text("2")  # the question waits 2 s for an answer
    result = guardian("-S", str(t.socket), "restore")
    assert result.code == 0, result
    assert "not at a prompt" not in result.out + result.err
    wait_until(lambda: tail_runs(t), timeout=10)
    assert "rc read: []" in pane_text(t), f"{shell}: {pane_text(t)}"


def test_a_shell_that_never_reaches_its_prompt_gets_nothing_typed_and_a_warning(
    guardian, shell_server: tuple[PrivateServer, str, Path], hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    t, _shell, work = shell_server
    build_and_crash(t, work, guardian)
    (hermetic_env / "home" / "ask").write_text("30")  # nobody answers in time
    (hermetic_env / "config.toml").write_text("type_wait = 1.5\n")
    result = guardian("-S", str(t.socket), "restore")
    assert result.code == 0, result
    assert "work:0.0: its shell was not at a prompt within 1.5 s" in result.out + result.err
    t.cmd("send-keys", "-t", "=work:", "n", "Enter")  # the person answers the question
    wait_until(lambda: "rc read: [n]" in pane_text(t), timeout=10)
    assert not tail_runs(t)
    assert "tail -f app.log" not in pane_text(t).split("rc read")[1]


def test_further_lines_wait_for_the_prompt_or_go_to_the_program_a_line_started(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pane's lines after the first: each once the shell is back at its prompt, or, when
    a line started a program that keeps the terminal, after LINE_WAIT (as tmuxp types
    them: into that program)."""
    from guardian.tmux import prompt

    sent: list[list[list[str]]] = []
    samples = iter([True, True] + [False] * 200)  # at its prompt, then python3 runs
    monkeypatch.setattr(prompt, "sample_shell", lambda pid, tty: sample(raw_terminal=next(samples)))
    typing = prompt.Typing("%1", "python3", True, "w:0.0", ("print(1)", "exit()"))
    warnings = prompt.type_at_prompts(
        [typing], lambda: {"%1": prompt.PaneShell(1, "/dev/null")}, sent.append, wait=2.0
    )
    assert warnings == {}
    typed = [c[-1] for batch in sent for c in batch if "-l" in c]
    assert typed == ["python3", "print(1)", "exit()"]
    assert len(sent) == 3  # one batch per line: each waited for the prompt or LINE_WAIT


@pytest.mark.tmux
def test_a_persons_default_command_wrapping_the_shell_still_gets_its_line_typed(
    guardian, tmux_server: PrivateServer, hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    """`set -g default-command ...` (a common tmux.conf line) makes each pane's first
    process `sh -c COMMAND`, and dash runs COMMAND as its child: the shell the person types
    at is that child. Its program is captured, and after a crash typed at its prompt."""
    t, work = tmux_server, hermetic_env / "work"
    work.mkdir()
    (work / "app.log").write_text("x\n")
    conf = "set -g default-shell /bin/sh\nset -g default-command /bin/sh\n"
    (hermetic_env / "home" / ".tmux.conf").write_text(conf)  # for the server a restore starts
    t.cmd("new-session", "-d", "-s", "work", "-x", "120", "-y", "30", "-c", str(work))
    t.cmd("set-option", "-g", "default-shell", "/bin/sh")
    t.cmd("set-option", "-g", "default-command", "/bin/sh")
    t.cmd("new-window", "-t", "=work:", "-c", str(work))
    first = int(t.cmd("display-message", "-p", "-t", "=work:1", "#{pane_pid}"))
    wait_until(lambda: psutil.Process(first).children())  # the wrapper's shell
    t.cmd("send-keys", "-t", "=work:1", "-l", "tail -f app.log")
    t.cmd("send-keys", "-t", "=work:1", "Enter")
    wait_until(lambda: ["tail", "-f", "app.log"] in foreground_job(first))
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    t.crash(kill_programs=True)
    result = guardian("-S", str(t.socket), "restore", "work")
    assert result.code == 0, result
    assert "not at a prompt" not in result.out + result.err, result
    assert t.cmd("show-options", "-gv", "default-command").strip() == "/bin/sh"
    pid = int(t.cmd("display-message", "-p", "-t", "=work:1", "#{pane_pid}"))
    wait_until(lambda: ["tail", "-f", "app.log"] in foreground_job(pid), timeout=10)
