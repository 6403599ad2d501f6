"""A tmuxp workspace's environments, options and pane programs (`environment` of the
session, window and pane; session `options`, `global_options`; a pane's `shell`, a
window's `window_shell`) come back as `tmuxp load` makes them when the person vouched for
the file, and otherwise only what the rules let through, each other one named.

The oracle for "as `tmuxp load` makes them" is scripts/compare_tmuxp.py (tmuxp itself on a
private server); these tests pin the rules and run the real thing on real tmux."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest

from config.settings import Settings
from guardian.operations.tmuxp_workspace import tmuxp_checkpoint
from recovery.checkpoint import Checkpoint
from recovery.may_run import Trust
from recovery.models import ServerInfo
from recovery.plan import LaunchKind, PlanContext, SessionPlan, plan_session
from tests.conftest import PrivateServer, wait_until
from tests.test_real_crash import foreground_job

SERVER = ServerInfo(socket_path="/tmp/x")

WORKSPACE = """\
session_name: envs
start_directory: /var/
environment:
  FOO: session
  EDITOR: /usr/bin/vim
  LANG: C.UTF-8
options:
  default-shell: /bin/sh
  mouse: true
global_options:
  repeat-time: 493
windows:
  - window_name: plain
    panes:
      - echo one
  - window_name: window-env
    environment:
      FOO: window
    window_shell: cat
    panes:
      - shell_command: [hello cat]
      - environment:
          FOO: pane
      - shell_command: [echo three]
        shell: ''
"""


def imported(text: str = WORKSPACE, *, vouched: bool) -> Checkpoint:
    return tmuxp_checkpoint(text, None, SERVER, datetime.now(UTC), vouched=vouched)


def planned(checkpoint: Checkpoint, trust: Trust) -> SessionPlan:
    return plan_session(checkpoint, PlanContext(settings=Settings(), trust=trust))


def test_the_import_keeps_each_level_as_tmuxp_builder_picks_it() -> None:
    session = imported(vouched=True).session
    assert dict(session.environment) == {
        "FOO": "session",
        "EDITOR": "/usr/bin/vim",
        "LANG": "C.UTF-8",
    }
    assert session.options == (("default-shell", "/bin/sh"), ("mouse", "on"))
    assert session.global_options == (("repeat-time", "493"),)
    plain, window = session.windows
    assert plain.panes[0].environment == () and plain.panes[0].is_shell
    assert plain.panes[0].cwd == "/var"  # as libtmux hands it to tmux: PWD=/var, not /var/
    first, second, third = window.panes
    # the window's environment, unless the pane has its own (it replaces, never merges)
    assert [dict(p.environment) for p in (first, second, third)] == [
        {"FOO": "window"},
        {"FOO": "pane"},
        {"FOO": "window"},
    ]
    # window_shell runs in each pane; an empty `shell` means the window's for the first
    # pane (tmuxp's new_window) and the default shell for a later one (its split)
    assert (first.is_shell, first.start_command, first.typed_commands) == (
        False,
        "cat",
        (" hello cat",),
    )
    assert (second.is_shell, second.start_command) == (False, "cat")
    assert (third.is_shell, third.start_command) == (True, "")


def test_vouched_sets_what_the_file_says() -> None:
    plan = planned(imported(vouched=True), Trust.VOUCHED)
    assert dict(plan.environment) == {"FOO": "session", "EDITOR": "/usr/bin/vim", "LANG": "C.UTF-8"}
    assert plan.options == (("default-shell", "/bin/sh"), ("mouse", "on"))
    assert plan.global_options == (("repeat-time", "493"),)
    launch = plan.windows[1].panes[0].launch
    assert (launch.kind, launch.line, launch.then) == (LaunchKind.COMMAND, "cat", (" hello cat",))
    assert "runs cat, then types  hello cat into it" in launch.describe()
    assert plan.warnings == ()


def test_without_vouching_only_what_the_rules_let_through_and_the_rest_named() -> None:
    plan = planned(imported(vouched=False), Trust.IMPORTED)
    assert dict(plan.environment) == {"LANG": "C.UTF-8"}  # allowlisted
    assert plan.options == (("mouse", "on"),)  # a flag
    assert plan.global_options == (("repeat-time", "493"),)  # a number
    warned = "\n".join(plan.warnings)
    assert "session: environment FOO is not on the environment allowlist" in warned
    assert "session: environment EDITOR makes programs run commands or load code" in warned
    assert "session option 'default-shell' = '/bin/sh' not set (it starts a program" in warned
    assert "window 1 pane 1: environment FOO is not on the environment allowlist" in warned
    launch = plan.windows[1].panes[0].launch
    assert (launch.kind, launch.keys) == (LaunchKind.TYPED, "cat")  # typed, not run
    assert "the 1 line for it not typed" in launch.reason
    assert any("window 1 pane 0" in line and "cat" in line for line in plan.held())


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("LD_PRELOAD", "/tmp/x.so", "makes programs run commands"),
        ("PATH", "/tmp", "makes programs run commands"),
        ("BAD NAME", "x", "is not a variable name"),
        ("A", "x\x1b]0;owned\x07", "control characters"),
    ],
)
def test_environment_refused_without_vouching_and_control_characters_never(
    name: str, value: str, why: str
) -> None:
    text = f"session_name: e\nenvironment:\n  {name!r}: {value!r}\nwindows:\n  - panes: [x]\n"
    text = text.replace("'", '"')
    for vouched, trust in ((False, Trust.IMPORTED), (True, Trust.VOUCHED)):
        plan = planned(imported(text, vouched=vouched), trust)
        refused_even_vouched = why in ("is not a variable name", "control characters")
        if vouched and not refused_even_vouched:
            assert plan.environment == ((name, value),)
            continue
        assert plan.environment == ()
        assert any(why in warning for warning in plan.warnings), plan.warnings


def test_a_pane_command_holding_control_characters_is_never_run_or_typed() -> None:
    text = 'session_name: c\nwindows:\n  - panes:\n      - shell: "top\\x15rm -rf x"\n'
    plan = planned(imported(text, vouched=True), Trust.VOUCHED)
    launch = plan.windows[0].panes[0].launch
    assert launch.kind is LaunchKind.SHELL and "control characters" in launch.reason


# -- real tmux ----------------------------------------------------------------------------


def _workspace(root: Path) -> Path:
    marker = root / "RAN"
    path = root / "w.yaml"
    path.write_text(
        "session_name: real\n"
        f"start_directory: {root}\n"
        "environment:\n"
        "  GREETING: hello-session\n"
        f"  HOSTILE: '$(touch {marker}-env)'\n"
        "options:\n"
        "  default-shell: /bin/sh\n"
        "windows:\n"
        "  - window_name: one\n"
        "    environment:\n"
        "      WHERE: window\n"
        "    panes:\n"
        "      - shell: cat\n"
        "        shell_command: [typed-into-cat]\n"
        "      - environment:\n"
        "          WHERE: pane\n"
        f"        shell_command: ['touch {marker}-typed']\n"
    )
    return path


def _environ(pid: int) -> dict[str, str]:
    data = Path(f"/proc/{pid}/environ").read_bytes().decode()
    return dict(item.split("=", 1) for item in data.split("\0") if "=" in item)


def _running(pid: int, name: str) -> int | None:
    """The pid of `name`: the pane's process or one of its children."""
    process = psutil.Process(pid)
    found = [p for p in (process, *process.children(recursive=True)) if p.name() == name]
    return found[0].pid if found else None


def _panes(t: PrivateServer) -> dict[str, tuple[int, str, str]]:
    lines = t.lines("#{pane_index}\t#{pane_pid}\t#{pane_current_command}\t#{pane_start_command}")
    return {i: (int(pid), cmd, start) for i, pid, cmd, start in (x.split("\t") for x in lines)}


@pytest.mark.tmux
def test_vouched_workspace_restores_its_environments_options_and_pane_program(
    guardian, tmux_server: PrivateServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path, sock, t = _workspace(tmp_path), str(tmux_server.socket), tmux_server
    assert guardian("-S", sock, "import", "tmuxp", str(path), "--trust-commands").code == 0
    restored = guardian("-S", sock, "restore", "real")
    assert restored.code == 0, restored
    assert t.cmd("show-options", "-v", "-t", "=real:", "default-shell").strip() == "/bin/sh"
    env = t.cmd("show-environment", "-t", "=real").splitlines()
    assert "GREETING=hello-session" in env and f"HOSTILE=$(touch {tmp_path}/RAN-env)" in env
    panes = _panes(t)
    pane_pid, _program, start = panes["0"]
    assert start == "cat"  # the pane's own command (tmux runs it with `sh -c`)
    wait_until(lambda: _running(pane_pid, "cat"))
    cat_pid = _running(pane_pid, "cat")
    assert cat_pid is not None
    assert _environ(cat_pid)["WHERE"] == "window"
    assert _environ(cat_pid)["GREETING"] == "hello-session"
    assert _environ(panes["1"][0])["WHERE"] == "pane"  # the pane's replaces the window's
    wait_until(lambda: "typed-into-cat" in t.cmd("capture-pane", "-p", "-t", "=real:0.0"))
    wait_until(lambda: (tmp_path / "RAN-typed").exists())  # vouched: its command ran
    assert not (tmp_path / "RAN-env").exists()  # a value is a value: never evaluated


@pytest.mark.tmux
def test_unvouched_workspace_runs_nothing_and_names_what_it_did_not_set(
    guardian, tmux_server: PrivateServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path, sock, t = _workspace(tmp_path), str(tmux_server.socket), tmux_server
    assert guardian("-S", sock, "import", "tmuxp", str(path)).code == 0
    restored = guardian("-S", sock, "restore", "real")
    assert restored.code == 0, restored
    out = restored.out
    assert "environment GREETING is not on the environment allowlist" in out
    assert "session option 'default-shell' = '/bin/sh' not set" in out
    assert "window 0 pane 1: environment WHERE" in out
    env = t.cmd("show-environment", "-t", "=real").splitlines()
    assert not any(line.startswith(("GREETING=", "HOSTILE=")) for line in env)
    panes = _panes(t)
    assert panes["0"][1] == "sh" and panes["0"][2] == ""  # a shell, `cat` typed at it
    wait_until(lambda: "cat" in t.cmd("capture-pane", "-p", "-t", "=real:0.0"))
    assert "typed-into-cat" not in t.cmd("capture-pane", "-p", "-t", "=real:0.0")
    assert "WHERE" not in _environ(panes["1"][0])
    time.sleep(0.5)
    ran = [p.name for p in tmp_path.iterdir() if p.name.startswith("RAN")]
    assert ran == []


@pytest.mark.tmux
def test_before_script_and_plugins_are_named_and_never_run(
    guardian, tmux_server: PrivateServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "SCRIPT-RAN"
    script = tmp_path / "bootstrap.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o755)
    path = tmp_path / "w.yaml"
    path.write_text(
        f"session_name: scripted\nbefore_script: {script}\nplugins: ['evil.Plugin']\n"
        "windows:\n  - panes: [echo hi]\n"
    )
    sock = str(tmux_server.socket)
    imported = guardian("-S", sock, "import", "tmuxp", str(path), "--trust-commands")
    assert imported.code == 0, imported
    assert "not carried over: 'before_script'" in imported.out
    assert "not carried over: 'plugins'" in imported.out
    assert guardian("-S", sock, "restore", "scripted").code == 0
    wait_until(lambda: "hi" in tmux_server.cmd("capture-pane", "-p", "-t", "=scripted:0.0"))
    assert not marker.exists()


@pytest.mark.parametrize(
    ("env", "size"),
    [
        ({}, (80, 24)),  # no terminal (tests): tmuxp's fallback
        ({"COLUMNS": "200", "LINES": "50"}, (200, 50)),  # the terminal's, as tmuxp reads it
        ({"TMUXP_DEFAULT_COLUMNS": "120", "TMUXP_DEFAULT_ROWS": "40"}, (120, 40)),
        ({"COLUMNS": "200", "LINES": "50", "TMUXP_DETECT_TERMINAL_SIZE": "0"}, (80, 24)),
        ({"TMUXP_DEFAULT_COLUMNS": "wide"}, (80, 24)),  # tmuxp itself would fail
        ({"COLUMNS": "99999", "LINES": "1"}, (10_000, 2)),  # within tmux's bounds
    ],
)
def test_a_workspace_is_built_at_the_size_tmuxp_load_would_build_it(
    env: dict[str, str], size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS")
    monkeypatch.delenv("LINES")

    def no_terminal(_fd: int = 1) -> os.terminal_size:
        raise OSError("not a terminal")  # as under CI, whatever terminal runs the tests

    monkeypatch.setattr(os, "get_terminal_size", no_terminal)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    window = imported("session_name: s\nwindows:\n  - panes: [a, b]\n", vouched=True)
    first = window.session.windows[0]
    assert (first.width, first.height) == size


def test_lines_for_a_pane_program_holding_control_characters_are_not_typed_and_said() -> None:
    text = (
        "session_name: c\nwindows:\n  - panes:\n      - shell: cat\n"
        '        shell_command: ["fine", "bad\\x15rm -rf x"]\n'
    )
    plan = planned(imported(text, vouched=True), Trust.VOUCHED)
    launch = plan.windows[0].panes[0].launch
    assert (launch.kind, launch.line, launch.then) == (LaunchKind.COMMAND, "cat", ())
    assert "not typed" in launch.reason and "\\x15" in launch.reason
    assert any("window 0 pane 0" in line for line in plan.held())


@pytest.mark.tmux
def test_a_vouched_imports_program_comes_back_running_after_a_crash(
    guardian, tmux_server: PrivateServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Vouching persists into the pane's later checkpoints (DESIGN, "What may run"): the
    program a vouched file started (not on the allowlist) is running again after a crash,
    restored from the person's own checkpoint taken since; a program the person started
    there afterwards by hand is not (it was never vouched for)."""
    t, sock = tmux_server, str(tmux_server.socket)
    path = tmp_path / "w.yaml"
    path.write_text(
        "session_name: dev\n"
        f"start_directory: {tmp_path}\n"
        "windows:\n"
        "  - panes:\n"
        "      - shell_command: ['cd /', 'sleep 1001 && echo done']\n"
        "      - echo idle\n"
    )
    assert guardian("-S", sock, "import", "tmuxp", str(path), "--trust-commands").code == 0
    assert guardian("-S", sock, "restore", "dev").code == 0
    first = int(t.cmd("display-message", "-p", "-t", "=dev:0.0", "#{pane_pid}"))
    wait_until(lambda: ["sleep", "1001"] in foreground_job(first), timeout=10)
    second = int(t.cmd("display-message", "-p", "-t", "=dev:0.1", "#{pane_pid}"))
    t.cmd("send-keys", "-t", "=dev:0.1", "-l", "sleep 1002")  # the person's, by hand
    t.cmd("send-keys", "-t", "=dev:0.1", "Enter")
    wait_until(lambda: ["sleep", "1002"] in foreground_job(second), timeout=10)
    assert guardian("-S", sock, "snapshot").code == 0
    t.crash(kill_programs=True)
    result = guardian("-S", sock, "restore", "dev")
    assert result.code == 0, result
    assert "pane 1: shell, with 'sleep 1002' typed, not run" in result.out, result
    pid = int(t.cmd("display-message", "-p", "-t", "=dev:0.0", "#{pane_pid}"))
    wait_until(lambda: ["sleep", "1001"] in foreground_job(pid), timeout=10)


def _live(text_argv: tuple[str, ...] | None, index: int = 0) -> object:
    from recovery.models import PaneState, ProgramState

    program = ProgramState(argv=text_argv, pid=10, started_at=1.0) if text_argv else None
    return PaneState(
        index=index, pane_id=f"%{index}", cwd="/", title="", active=index == 0, width=80,
        height=24, left=0, top=0, program=program,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "vouched", "carried"),
    [
        (("sleep", "1001"), True, "sleep 1001"),  # a part of `sleep 1001 && echo done`
        (("npm", "run", "dev"), True, "npm run dev"),  # a whole line
        (("sleep", "1002"), True, None),  # typed by hand later: never vouched for
        (("npm", "run", "dev"), False, None),  # an import nobody vouched for
        (None, True, None),  # a shell at its prompt: nothing to choose
    ],
)
def test_which_commands_keep_a_vouched_choice_in_later_checkpoints(
    argv: tuple[str, ...] | None, vouched: bool, carried: str | None
) -> None:
    from recovery.carried_choices import with_carried_choices

    text = "session_name: d\nwindows:\n  - panes:\n      - [cd /, sleep 1001 && echo done]\n"
    text += "      - npm run dev\n"
    previous = imported(text, vouched=vouched).session
    window = previous.windows[0]
    index = 1 if argv and argv[0] == "npm" else 0
    live_window = window.model_copy(update={"panes": (_live(argv, index),)})
    live = previous.model_copy(update={"windows": (live_window,)})
    kept = with_carried_choices(live, previous, vouched=vouched, allowed=())
    choice = kept.windows[0].panes[0].choice
    assert (choice.command if choice else None) == carried
    assert choice is None or choice.mode == "run"
    # the next fresh read, against that (own) checkpoint: the choice stays
    again = with_carried_choices(live, kept, vouched=False, allowed=())
    assert again.windows[0].panes[0].choice == choice
