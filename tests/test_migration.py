"""Taking over from tmux-resurrect and tmuxp: their files become verified checkpoints that
`restore` uses; a checkpoint becomes a tmuxp workspace that `tmuxp load` accepts."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recovery.tmux_options import Scope, option_refusal
from tests.conftest import PrivateServer, wait_until
from tests.test_round_trip import read

pytestmark = pytest.mark.tmux


def resurrect_file(t: PrivateServer, directory: Path) -> str:
    """A save file in resurrect's own format, with layouts made by a real tmux."""
    t.cmd("new-session", "-d", "-s", "probe", "-x", "160", "-y", "48")
    t.cmd("split-window", "-h", "-t", "probe")
    t.cmd("split-window", "-v", "-t", "probe:0.1")
    three = t.cmd("display-message", "-p", "-t", "probe:0", "#{window_layout}").strip()
    t.cmd("new-window", "-t", "probe:1")
    t.cmd("split-window", "-t", "probe:1")
    two = t.cmd("display-message", "-p", "-t", "probe:1", "#{window_layout}").strip()
    t.cmd("new-session", "-d", "-s", "single", "-x", "80", "-y", "24")
    one = t.cmd("display-message", "-p", "-t", "single:0", "#{window_layout}").strip()
    t.cmd("kill-server")
    d = str(directory)
    tab = "\t"
    lines = [
        ["pane", "work", "0", ":editor", "0", ":-", "0", f":{d}", "0", "vim", ":vim notes.txt"],
        ["pane", "work", "0", ":editor", "0", ":-", "1", f":{d}/sub dir", "1", "bash", ":"],
        ["pane", "work", "0", ":editor", "0", ":-", "2", f":{d}", "0", "tail", ":tail -f log"],
        ["pane", "work", "1", ":logs", "1", ":*Z", "0", f":{d}", "0", "bash", ":"],
        ["pane", "work", "1", ":logs", "1", ":*Z", "1", f":{d}", "1", "less", ":less log"],
        ["pane", "misc", "0", ":sh", "1", ":*", "0", f":{d}", "1", "bash", ":"],
        ["window", "work", "0", "0", ":-", three],
        ["window", "work", "1", "1", ":*Z", two],
        ["window", "misc", "0", "1", ":*", one],
        ["state", "work", "misc"],
    ]
    return "\n".join(tab.join(line) for line in lines) + "\n"


def test_resurrect_save_file_imports_and_restores(
    guardian, tmux_server: PrivateServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "sub dir").mkdir()
    (tmp_path / "log").write_text("x\n")
    save = tmp_path / "tmux_resurrect_20261123.txt"
    save.write_text(resurrect_file(tmux_server, tmp_path))
    sock = str(tmux_server.socket)
    # The person vouches for the file (its commands run); an import joins the restore set
    # only once restored by name.
    result = guardian("-S", sock, "import", "resurrect", str(save), "--trust-commands")
    assert result.code == 0, result
    assert "imported 'work' (2 windows, 5 panes)" in result.out
    assert "imported 'misc' (1 windows, 1 panes)" in result.out
    assert guardian("verify").code == 0  # every imported checkpoint verifies
    restored = guardian("-S", sock, "restore", "work", "misc")
    assert restored.code == 0, restored
    assert "warning" not in restored.out, restored.out
    work = read(tmux_server).session("work")
    assert work is not None
    assert [(w.index, w.name, len(w.panes)) for w in work.windows] == [
        (0, "editor", 3),
        (1, "logs", 2),
    ]
    assert work.windows[1].zoomed and work.windows[1].active
    assert [p.cwd for p in work.windows[0].panes] == [
        str(tmp_path),
        f"{tmp_path}/sub dir",
        str(tmp_path),
    ]
    assert work.windows[0].active_pane.index == 1  # type: ignore[union-attr]
    wait_until(lambda: read(tmux_server).session("work").windows[0].panes[2].program is not None)  # type: ignore[union-attr]
    assert read(tmux_server).session("work").windows[0].panes[2].program.argv == (
        "tail",
        "-f",
        "log",
    )  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pane\twork\t0\n", "line 1: a pane line of 3 fields"),
        (
            "window\twork\t0\t1\t:*\tb25d,80x24,0,0,0\npaine\tx\n",
            "line 2: unknown line type 'paine'",
        ),
        (
            "pane\tw\t0\t:n\t1\t:*\t0\t:/\t1\tbash\t:\nwindow\tw\t0\t1\t:*\tnot-a-layout\n",
            "line 2: invalid layout",
        ),
        ("pane\tw\t0\t:n\t1\t:*\tX\t:/\t1\tbash\t:\n", "line 1: a pane line whose window, pane"),
        ("state\ta\tb\n", "no pane lines"),
    ],
)
def test_malformed_resurrect_files_name_the_line_and_import_nothing(
    guardian, tmp_path: Path, hermetic_env: Path, text: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    save = tmp_path / "last"
    save.write_text(text)
    result = guardian("-S", str(tmp_path / "s"), "import", "resurrect", str(save))
    assert result.code == 1 and message in result.err and "nothing imported" in result.err
    assert not list((hermetic_env / "state").rglob("*.json"))


TMUXP = """\
session_name: api
start_directory: {root}
windows:
  - window_name: editor
    layout: main-vertical
    focus: true
    panes:
      - shell_command: [vim app.py]
        focus: true
      - start_directory: sub dir
      - null
  - window_name: server
    start_directory: sub dir
    layout: even-horizontal
    panes:
      - shell_command:
          - cmd: tail -f app.log
      - shell_command: [cd /tmp, echo made build]
"""


def test_tmuxp_workspace_imports_and_restores(
    guardian, tmux_server: PrivateServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "sub dir").mkdir()
    (tmp_path / "sub dir" / "app.log").write_text("x\n")
    workspace = tmp_path / "api.yaml"
    workspace.write_text(TMUXP.format(root=tmp_path))
    sock = str(tmux_server.socket)
    result = guardian("-S", sock, "import", "tmuxp", str(workspace), "--trust-commands")
    assert result.code == 0, result
    assert "imported 'api' (2 windows, 5 panes)" in result.out
    restored = guardian("-S", sock, "restore", "api")
    assert restored.code == 0, restored
    api = read(tmux_server).session("api")
    assert api is not None
    assert [(w.name, len(w.panes)) for w in api.windows] == [("editor", 3), ("server", 2)]
    assert [p.cwd for p in api.windows[0].panes] == [
        str(tmp_path),
        f"{tmp_path}/sub dir",
        str(tmp_path),
    ]
    assert api.windows[1].panes[0].cwd == f"{tmp_path}/sub dir"
    assert api.active_window.name == "editor"  # type: ignore[union-attr]
    wait_until(lambda: read(tmux_server).session("api").windows[1].panes[0].program is not None)  # type: ignore[union-attr]
    # several commands stay several: vouched for, each entered as its own line, in the same
    # shell (the `cd` holds), with tmuxp's leading space (kept out of the shell's history)
    # (each line once the prompt is back, as tmuxp's one send-keys per line leaves it)
    wait_until(lambda: "\nmade build" in tmux_server.cmd("capture-pane", "-p", "-t", "=api:1.1"))
    lines = tmux_server.cmd("capture-pane", "-p", "-t", "=api:1.1").splitlines()
    assert lines[0].endswith("  cd /tmp") and lines[1].endswith("  echo made build")
    assert lines[2] == "made build" and lines[0][:-9] == lines[1][:-17]  # one prompt each
    wait_until(lambda: read(tmux_server).session("api").windows[1].panes[1].cwd == "/tmp")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("session_name: x\nwindows:\n  - panes: [\n", "line"),
        ("windows: []\n", "'session_name': missing"),
        ("session_name: x\nwindows: []\n", "'windows': must be a non-empty list"),
        ("session_name: x\nwindows:\n  - panes:\n      - 42\n", "'windows[0].panes[0]'"),
    ],
)
def test_malformed_tmuxp_files_say_where(guardian, tmp_path: Path, text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    workspace = tmp_path / "w.yaml"
    workspace.write_text(text)
    result = guardian("-S", str(tmp_path / "s"), "import", "tmuxp", str(workspace))
    assert result.code == 1 and message in result.err and "Traceback" not in result.err


@pytest.mark.skipif(
    shutil.which("tmuxp") is None and not Path(sys.executable).with_name("tmuxp").exists(),
    reason="tmuxp not installed",
)
def test_export_tmuxp_loads_in_tmuxp(guardian, tmux_server: PrivateServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "exp", "-x", "120", "-y", "40", "-c", str(tmp_path))
    t.cmd("split-window", "-h", "-t", "exp", "-c", str(tmp_path))
    t.cmd("new-window", "-t", "exp", "-n", "two")
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    out = tmp_path / "exp.yaml"
    assert guardian("-S", str(t.socket), "export", "tmuxp", "exp", "-o", str(out)).code == 0
    t.crash()
    tmuxp = shutil.which("tmuxp") or str(Path(sys.executable).with_name("tmuxp"))
    subprocess.run(
        [tmuxp, "load", "-d", "-y", "-S", str(t.socket), str(out)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    session = read(t).session("exp")
    assert session is not None and [len(w.panes) for w in session.windows] == [2, 1]
    assert session.windows[0].panes[0].cwd == str(tmp_path)


def test_simulated_reboot_rebuilds_everything_and_empty_snapshots_change_nothing(
    guardian, tmux_server: PrivateServer, hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    sock = str(t.socket)
    for name in ("mail", "code", "notes"):
        t.cmd("new-session", "-d", "-s", name, "-x", "100", "-y", "30")
    t.cmd("split-window", "-t", "code")
    assert guardian("-S", sock, "watch", "--once", "--quiet").code == 0  # guarded, checkpointed
    before = {s.name: [len(w.panes) for w in s.windows] for s in read(t).sessions}
    store = hermetic_env / "state" / "checkpoints"
    saved = sorted(p.name for p in store.rglob("*.json"))
    t.crash()  # the machine went down: server and programs gone, the state dir kept
    for _ in range(2):  # e.g. cron or a key binding firing while nothing runs
        assert guardian("-S", sock, "snapshot").code == 1
    assert sorted(p.name for p in store.rglob("*.json")) == saved  # nothing written over them
    result = guardian("-S", sock, "restore")
    assert result.code == 0, result
    assert result.out.count("restored  ") == 3 and "restored 3, skipped 0, failed 0" in result.out
    assert {s.name: [len(w.panes) for w in s.windows] for s in read(t).sessions} == before
    again = guardian("-S", sock, "restore")  # a second run skips what exists
    assert "restored 0, skipped 3, failed 0" in again.out and again.code == 0


@pytest.mark.parametrize("panes", [1, 2, 3, 4, 5])
def test_a_tmuxp_window_without_a_layout_is_laid_out_as_tmux_splits_it(
    tmux_server: PrivateServer, panes: int
) -> None:
    """tmuxp splits each new pane from the one before it: the layout we plan is the one a
    real tmux makes (checksum included: the pane ids are tmux's own 0..n-1 here)."""
    from recovery.layout import stacked_layout

    t = tmux_server
    t.cmd("new-session", "-d", "-s", "s", "-x", "80", "-y", "24")
    refused = False
    for _ in range(panes - 1):
        try:
            t.cmd("split-window", "-t", "=s:")
        except RuntimeError as exc:  # no space for new pane
            refused = "no space" in str(exc)
    if panes == 5:  # no room for a fifth: tmux refuses, and so does the plan (tiled then)
        assert refused and stacked_layout(80, 24, panes) is None
        return
    shown = t.cmd("display-message", "-p", "-t", "=s:", "#{window_layout}").strip()
    assert stacked_layout(80, 24, panes) == shown


@pytest.mark.parametrize(
    ("scope", "name", "value", "set_", "vouched_sets"),
    [
        ("window", "synchronize-panes", "on", True, True),
        ("window", "main-pane-height", "30", True, True),
        ("window", "main-pane-width", "67%", True, True),
        ("window", "mode-keys", "vi", True, True),
        ("window", "main-pane-height", "#(touch x)", False, False),
        ("window", "automatic-rename-format", "#(touch x)", False, False),  # tmux runs #(...)
        ("global", "status-right", "#[fg=red]#(uptime)", False, False),
        ("window", "pane-border-format", "#{pane_index}", False, True),
        ("window", "synchronize-panes", "maybe", False, True),
        ("session", "default-command", "/bin/sh", False, True),  # runs in every new pane
        ("session", "default-shell", "/bin/bash", False, True),
        ("session", "default-shell", "/bin/sh\x1b]0;x", False, False),
        ("session", "mouse", "on", True, True),
        ("global", "repeat-time", "493", True, True),
        ("global", "status-position", "top", True, True),
        ("session", "status-left", "work", False, True),
        ("session", "bad name;", "on", False, False),
    ],
)
def test_which_tmux_options_a_file_may_set(
    scope: Scope, name: str, value: str, set_: bool, vouched_sets: bool
) -> None:
    assert (option_refusal(scope, name, value) is None) is set_
    assert (option_refusal(scope, name, value, vouched=True) is None) is vouched_sets


def test_tmuxp_window_options_are_set_before_the_layout_and_after_the_commands(
    guardian, tmux_server: PrivateServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """`main-pane-height` shapes main-horizontal; `synchronize-panes` comes after each
    pane's command was typed (before, each would go to every pane); an option holding a
    format is named and never set (its `#(...)` would run)."""
    marker = tmp_path / "OPTION-RAN"
    workspace = tmp_path / "w.yaml"
    workspace.write_text(
        "session_name: opts\n"
        "windows:\n"
        "  - window_name: main\n"
        "    layout: main-horizontal\n"
        "    options:\n"
        "      main-pane-height: 5\n"
        f"      pane-border-format: '#(touch {marker})'\n"
        "    options_after:\n"
        "      synchronize-panes: on\n"
        "    panes:\n"
        "      - echo one\n"
        "      - echo two\n"
        "      - echo three\n"
    )
    sock = str(tmux_server.socket)
    assert guardian("-S", sock, "import", "tmuxp", str(workspace), "--trust-commands").code == 0
    restored = guardian("-S", sock, "restore", "opts")
    assert restored.code == 0, restored
    assert "option 'pane-border-format'" in restored.out and "not set" in restored.out
    t = tmux_server
    assert t.cmd("show-options", "-wv", "-t", "=opts:0", "synchronize-panes").strip() == "on"
    assert t.cmd("show-options", "-wv", "-t", "=opts:0", "main-pane-height").strip() == "5"
    assert t.cmd("display-message", "-p", "-t", "=opts:0.0", "#{pane_height}").strip() == "5"
    for pane, word in enumerate(("one", "two", "three")):
        wait_until(
            lambda p=pane, w=word: f"echo {w}" in t.cmd("capture-pane", "-p", "-t", f"=opts:0.{p}")
        )  # type: ignore[misc]
        text = t.cmd("capture-pane", "-p", "-t", f"=opts:0.{pane}")
        assert [w for w in ("one", "two", "three") if f"echo {w}" in text] == [word]
    assert not marker.exists()


ENTER_FALSE = """\
session_name: typed
start_directory: {root}
windows:
  - window_name: w
    panes:
      - shell_command: 'touch {root}/pane-level-ran'
        enter: false
      - shell_command:
          - 'touch {root}/first\\;'
          - cmd: 'touch {root}/second'
            enter: false
"""


def test_tmuxp_enter_false_is_typed_and_never_run_even_when_vouched(
    guardian, tmux_server: PrivateServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """`enter: false` (pane or command level, carried on to the commands after it, as
    tmuxp's builder reads it): the text is typed at the prompt, never run, though the
    file is vouched for; a command ending in `\\;` arrives ending in `;` (tmux reads the
    argument tmuxp gives send-keys so): a command before the unsent one runs."""
    workspace = tmp_path / "typed.yaml"
    workspace.write_text(ENTER_FALSE.format(root=tmp_path))
    sock = str(tmux_server.socket)
    assert guardian("-S", sock, "import", "tmuxp", str(workspace), "--trust-commands").code == 0
    planned = guardian("-S", sock, "restore", "typed", "--dry-run").out
    assert "typed, not run (Enter runs it) (typed without Enter, as the file says" in planned
    assert f"then ' touch {tmp_path}/second' typed, not run, as the file says" in planned
    restored = guardian("-S", sock, "restore", "typed")
    assert restored.code == 0, restored
    screen = lambda pane: tmux_server.cmd("capture-pane", "-pJ", "-t", f"=typed:0.{pane}")  # noqa: E731
    wait_until(lambda: f"touch {tmp_path}/pane-level-ran" in screen(0))
    wait_until(lambda: (tmp_path / "first").exists())  # run, as tmuxp runs it
    wait_until(lambda: screen(1).rstrip().endswith(f"touch {tmp_path}/second"))
    time.sleep(1.0)  # more than enough for a command that had been run to act
    assert not (tmp_path / "pane-level-ran").exists() and not (tmp_path / "second").exists()
