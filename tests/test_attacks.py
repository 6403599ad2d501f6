"""The attacks of issue 9, each run as an attacker would, against real tmux on private
servers: nothing runs that the person did not run, and the state dir never turns against
its owner. Each test failed on the code before the fix (see the closing note).

A marker file stands for "code ran": every hostile command tries to create one.
"""

from __future__ import annotations

import json
import os
import resource
import shlex
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest

from tests.conftest import PrivateServer, wait_until
from tests.test_transactions import resign

pytestmark = pytest.mark.tmux
HELD_WAIT = 1.0
"""After the held text shows at the prompt: how long a run command would have had to
make its marker (vim and less start in well under 0.2 s here)."""


# -- helpers -----------------------------------------------------------------------------


def start_in_shell(t: PrivateServer, session: str, command: str, cwd: Path) -> str:
    """A session whose pane runs `command` from its shell, as a person typed it."""
    t.cmd("new-session", "-d", "-s", session, "-x", "120", "-y", "30", "-c", str(cwd))
    pane = t.cmd("display-message", "-p", "-t", f"={session}:", "#{pane_id}").strip()
    t.cmd("send-keys", "-t", pane, "-l", command)
    t.cmd("send-keys", "-t", pane, "Enter")
    return pane


def foreground_names(t: PrivateServer, session: str) -> list[str]:
    """The names of the foreground processes of every pane of `session` (from /proc)."""
    names = []
    for line in t.lines("#{session_name}\t#{pane_pid}"):
        name, pid = line.split("\t")
        if name != session:
            continue
        with open(f"/proc/{pid}/stat") as handle:
            tpgid = int(handle.read().rsplit(")", 1)[1].split()[5])
        try:
            names.append(psutil.Process(tpgid).name())
        except psutil.Error:
            names.append("?")
    return names


def pane_text(t: PrivateServer, session: str) -> str:
    return t.cmd("capture-pane", "-pJ", "-t", f"={session}:", check=False)


def wait_held(t: PrivateServer, session: str, text: str) -> None:
    """Wait until `text` shows at the pane's prompt, then long enough that a command that
    had been run would have acted."""
    wait_until(lambda: text in pane_text(t, session), timeout=10)
    time.sleep(HELD_WAIT)


def config(hermetic_env: Path, text: str) -> None:
    (hermetic_env / "config.toml").write_text(text)


def newest_path(guardian: Callable[..., object], session: str) -> Path:
    out = guardian("checkpoints", session, "--json").out  # type: ignore[attr-defined]
    return Path(json.loads(out)["checkpoints"][0]["path"])


# -- 1. a forged checkpoint ----------------------------------------------------------------


def test_forged_checkpoint_restores_layout_and_holds_its_commands(
    guardian, tmux_server: PrivateServer, tmp_path: Path, hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    """The SHA-256 is recomputed by whoever edits the file; the person's key is not."""
    t = tmux_server
    marker = tmp_path / "FORGED"
    config(hermetic_env, 'allowlist = ["tail", "touch"]\n')
    (tmp_path / "log").write_text("x\n")
    start_in_shell(t, "work", f"tail -f {tmp_path}/log", tmp_path)
    wait_until(lambda: "tail" in foreground_names(t, "work"))
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    path = newest_path(guardian, "work")

    def forge(payload: dict) -> None:  # type: ignore[type-arg]
        pane = payload["session"]["windows"][0]["panes"][0]
        pane["program"]["argv"] = ["touch", str(marker)]
        pane.pop("job", None)

    resign(path, forge)
    verified = guardian("verify")
    assert verified.code == 0 and "1 not yours (commands held)" in verified.out
    t.crash()
    result = guardian("-S", str(t.socket), "restore", "work")
    assert result.code == 0, result
    wait_held(t, "work", f"touch {marker}")
    assert not marker.exists()
    assert foreground_names(t, "work") == ["sh"]


# -- 2. the allowlist runs commands through arguments -------------------------------------

MARK = "ARGUMENT-RAN"
HOSTILE_ARGUMENTS = {
    "vim +!cmd": f"vim -n '+!touch {MARK}' notes.txt",
    # less runs a `+!` command once it is ended by a carriage return
    "less +!cmd": f"less \"+!touch {MARK}$(printf '\\rx')\" notes.txt",
    "watch cmd": f"watch -n 3600 'touch {MARK}'",
    "man -P cmd": f"man -P 'sh -c \"touch {MARK}; exec sleep 1000\"' ls",
    "ssh ProxyCommand": f"ssh -o 'ProxyCommand=sh -c \"touch {MARK}; exec sleep 1000\"' nohost",
}


@pytest.mark.parametrize("command", HOSTILE_ARGUMENTS.values(), ids=HOSTILE_ARGUMENTS.keys())
def test_allowlisted_program_with_command_running_arguments_is_held(
    guardian, tmux_server: PrivateServer, tmp_path: Path, command: str
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    (tmp_path / "notes.txt").write_text("notes\n")
    program = command.split()[0]
    if shutil.which(program) is None:
        pytest.skip(f"{program} is not installed")
    start_in_shell(t, "work", command, tmp_path)
    marker = tmp_path / MARK
    wait_until(lambda: marker.exists(), timeout=10)  # the person's own run did it
    wait_until(lambda: program in " ".join(foreground_names(t, "work")), timeout=10)
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    marker.unlink()
    t.crash()
    result = guardian("-S", str(t.socket), "restore", "work")
    assert result.code == 0, result
    assert "held" in result.out or "refused" in result.out, result.out
    wait_until(lambda: foreground_names(t, "work") == ["sh"], timeout=10)
    time.sleep(HELD_WAIT)
    assert not marker.exists(), f"{command} ran again by itself"


def test_a_program_named_like_an_allowlisted_one_is_not_it(
    guardian, tmux_server: PrivateServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """`/tmp/evil/vim` is not vim; `exec -a vim sleep` is sleep claiming to be vim."""
    t = tmux_server
    evil = tmp_path / "evil"
    evil.mkdir()
    shutil.copy(shutil.which("sleep") or "/bin/sleep", evil / "vim")
    start_in_shell(t, "byname", f"{evil}/vim 1000", tmp_path)
    start_in_shell(t, "renamed", "bash -c 'exec -a vim sleep 1000'", tmp_path)
    wait_until(lambda: foreground_names(t, "byname") == ["vim"])
    wait_until(lambda: foreground_names(t, "renamed") == ["sleep"])
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    t.crash()
    assert guardian("-S", str(t.socket), "restore").code == 0
    wait_held(t, "byname", f"{evil}/vim 1000")
    wait_held(t, "renamed", "vim 1000")
    assert foreground_names(t, "byname") == ["sh"]
    assert foreground_names(t, "renamed") == ["sh"]


# -- 3. imports run code -----------------------------------------------------------------

HOSTILE_TMUXP = """\
session_name: shared
start_directory: {root}
windows:
  - window_name: edit
    panes:
      - vim -n '+!touch {marker}' notes.txt
      - shell_command: [touch {marker}]
"""


def test_a_shared_tmuxp_file_runs_nothing_and_never_joins_the_restore_set(
    guardian, tmux_server: PrivateServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    marker = tmp_path / "IMPORTED"
    workspace = tmp_path / "shared.yaml"
    workspace.write_text(HOSTILE_TMUXP.format(root=tmp_path, marker=marker))
    t.cmd("new-session", "-d", "-s", "mine")
    sock = str(t.socket)
    assert guardian("-S", sock, "snapshot").code == 0
    imported = guardian("-S", sock, "import", "tmuxp", str(workspace))
    assert imported.code == 0 and f"touch {marker}" in imported.out and "held" in imported.out
    # a watcher start (or a reboot) does not bring up a session the person never had
    t.crash()
    assert guardian("-S", sock, "watch", "--once", "--quiet").code == 0
    wait_until(lambda: "mine" in t.cmd("list-sessions", "-F", "#{session_name}", check=False))
    assert "shared" not in t.cmd("list-sessions", "-F", "#{session_name}")
    # restored by name, its commands are typed, not run
    assert guardian("-S", sock, "restore", "shared").code == 0
    wait_held(t, "shared", f"touch {marker}")
    assert not marker.exists()


# -- 4. "typed, not run" runs ---------------------------------------------------------------


def test_typed_text_with_control_characters_is_refused_not_typed(
    guardian, tmux_server: PrivateServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Ctrl-U and Enter inside a held command would erase the line and run the rest."""
    t = tmux_server
    marker = tmp_path / "TYPED"
    start_in_shell(t, "work", "sleep 1000", tmp_path)
    wait_until(lambda: foreground_names(t, "work") == ["sleep"])
    assert guardian("-S", str(t.socket), "snapshot").code == 0

    def hostile(payload: dict) -> None:  # type: ignore[type-arg]
        pane = payload["session"]["windows"][0]["panes"][0]
        pane["program"]["argv"] = ["sleep", f"1000\x15touch {marker}\r"]

    resign(newest_path(guardian, "work"), hostile)
    t.crash()
    result = guardian("-S", str(t.socket), "restore", "work")
    assert result.code == 0, result
    wait_until(lambda: foreground_names(t, "work") == ["sh"])
    time.sleep(HELD_WAIT)
    assert not marker.exists()
    assert "touch" not in pane_text(t, "work")
    dry = guardian("-S", str(t.socket), "restore", "work", "--as", "other", "--dry-run")
    assert "control characters" in dry.out and "\\x15" in dry.out and "\x15" not in dry.out


# -- 5. a mistyped layout ------------------------------------------------------------------


def test_a_mistyped_layout_never_reaches_tmux(
    guardian, tmux_server: PrivateServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """`main-verticle` is taken by tmux 3.3a for a custom layout, and it segfaults."""
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "bystander")
    pid = t.pid()
    workspace = tmp_path / "typo.yaml"
    workspace.write_text(
        "session_name: typo\nwindows:\n  - layout: main-verticle\n    panes: [null, null]\n"
    )
    assert guardian("-S", str(t.socket), "import", "tmuxp", str(workspace)).code == 0
    result = guardian("-S", str(t.socket), "restore", "typo")
    assert result.code == 0, result
    assert "main-verticle" in result.out and "tiled instead" in result.out
    assert t.pid() == pid  # the same server: it did not crash
    names = t.cmd("list-sessions", "-F", "#{session_name}").split()
    assert sorted(names) == ["bystander", "typo"]


# -- 6. the state dir follows symlinks ------------------------------------------------------


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "authorized_keys"
    path.write_text("ssh-ed25519 AAAA person@host\n")
    return path


def test_a_planted_store_lock_link_is_refused(
    guardian, tmux_server: PrivateServer, hermetic_env: Path, victim: Path
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "work")
    state = hermetic_env / "state"
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    (state / "store.lock").unlink()
    (state / "store.lock").symlink_to(victim)
    t.cmd("rename-window", "-t", "work:0", "changed")
    result = guardian("-S", str(t.socket), "snapshot")
    assert result.code == 1 and "symbolic link" in result.err
    assert victim.read_text() == "ssh-ed25519 AAAA person@host\n"


def test_a_planted_journal_link_is_refused(
    guardian, tmux_server: PrivateServer, hermetic_env: Path, victim: Path
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "work")
    state = hermetic_env / "state"
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    (state / "journal.jsonl").symlink_to(victim)
    result = guardian("-S", str(t.socket), "forget", "work")
    assert result.code == 1 and "symbolic link" in result.err
    assert victim.read_text() == "ssh-ed25519 AAAA person@host\n"


def test_a_linked_server_directory_is_never_aged_out(
    guardian, tmux_server: PrivateServer, hermetic_env: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "work")
    sock = str(t.socket)
    assert guardian("-S", sock, "snapshot").code == 0
    precious = tmp_path / "precious"
    for name in ("photos", "thesis"):
        (precious / name).mkdir(parents=True)
        (precious / name / "keep.txt").write_text(name)
    server_dir = next((hermetic_env / "state" / "checkpoints").iterdir())
    shutil.rmtree(server_dir)
    server_dir.symlink_to(precious)
    t.cmd("rename-window", "-t", "work:0", "changed")
    guardian("-S", sock, "snapshot")
    assert sorted(p.name for p in precious.iterdir()) == ["photos", "thesis"]
    assert (precious / "thesis" / "keep.txt").read_text() == "thesis"


def test_a_linked_newest_checkpoint_is_quarantined_and_the_restore_falls_back(
    guardian, tmux_server: PrivateServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    sock = str(t.socket)
    t.cmd("new-session", "-d", "-s", "work")
    assert guardian("-S", sock, "snapshot").code == 0
    older = newest_path(guardian, "work")
    t.cmd("rename-window", "-t", "work:0", "newer")
    assert guardian("-S", sock, "snapshot").code == 0
    newest = newest_path(guardian, "work")
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes(newest.read_bytes())
    newest.unlink()
    newest.symlink_to(elsewhere)
    t.crash()
    result = guardian("-S", sock, "restore", "work")
    assert result.code == 0, result
    assert older.stem in result.out and "symbolic link" in result.err
    assert not newest.is_symlink() and not newest.exists()  # moved to quarantine


def test_a_dry_run_moves_nothing(guardian, tmux_server: PrivateServer, hermetic_env: Path) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    sock = str(t.socket)
    t.cmd("new-session", "-d", "-s", "work")
    assert guardian("-S", sock, "snapshot").code == 0
    t.cmd("rename-window", "-t", "work:0", "newer")
    assert guardian("-S", sock, "snapshot").code == 0
    newest = newest_path(guardian, "work")
    newest.write_bytes(newest.read_bytes()[:100])
    before = sorted(str(p) for p in (hermetic_env / "state").rglob("*"))
    t.crash()
    result = guardian("-S", sock, "restore", "work", "--dry-run")
    assert result.code == 0 and "would be moved" in result.err
    assert sorted(str(p) for p in (hermetic_env / "state").rglob("*")) == before


# -- 7. one bad file stops everything ---------------------------------------------------------


def test_a_deeply_nested_checkpoint_is_refused_everywhere_without_a_traceback(
    guardian, tmux_server: PrivateServer
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    sock = str(t.socket)
    t.cmd("new-session", "-d", "-s", "work")
    assert guardian("-S", sock, "snapshot").code == 0
    good = newest_path(guardian, "work")
    t.cmd("rename-window", "-t", "work:0", "newer")
    assert guardian("-S", sock, "snapshot").code == 0
    deep = newest_path(guardian, "work")
    deep.write_bytes(b"[" * 200_000 + b"]" * 200_000)
    for command in (["checkpoints"], ["verify"]):
        result = guardian(*command)
        assert "Traceback" not in result.err and "internal error" not in result.err, command
    t.crash()
    result = guardian("-S", sock, "restore", "work")
    assert result.code == 0 and good.stem in result.out, result
    assert guardian("-S", sock, "watch", "--once", "--quiet").code == 0


def _import_with_memory_limit(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    return subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=60, preexec_fn=limit, check=False
    )


def test_a_yaml_alias_bomb_is_refused_within_bounded_memory(tmp_path: Path) -> None:
    bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, 10):
        bomb.append(f"{chr(97 + n)}: &{chr(97 + n)} [" + ",".join([f"*{chr(96 + n)}"] * 9) + "]")
    bomb.append("session_name: x\nwindows: [*j]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(bomb) + "\n")
    argv = [sys.executable, "-m", "guardian.cli", "-S", str(tmp_path / "s")]
    done = _import_with_memory_limit([*argv, "import", "tmuxp", str(path)], dict(os.environ))
    assert done.returncode == 1 and "aliases" in done.stderr, done.stderr
    assert "MemoryError" not in done.stderr and "Traceback" not in done.stderr


def test_a_huge_checkpoint_is_refused_without_reading_it(
    guardian, tmux_server: PrivateServer
) -> None:  # type: ignore[no-untyped-def]
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "work")
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    path = newest_path(guardian, "work")
    with path.open("r+b") as handle:
        handle.truncate(500 * 1024 * 1024)  # sparse: costs no disk
    result = guardian("verify")
    assert result.code == 1 and "too large" in result.err


# -- 8. markup and escapes ------------------------------------------------------------------


# (tmux turns `:` and `.` of session names into `_`)
@pytest.mark.parametrize("name", ["a[/]", "[link=https//evil]x[/link]", "[bold]b", "é[/i]"])
async def test_names_with_markup_are_shown_as_text_in_the_ui(
    tmux_server: PrivateServer, hermetic_env: Path, name: str
) -> None:
    from config.settings import Settings
    from guardian.operations.engine import Engine
    from guardian.tmux.targets import ServerTarget
    from guardian.view import EngineService
    from tui.app import GuardianApp
    from tui.widgets.session_table import SessionTable

    tmux_server.cmd("new-session", "-d", "-s", name)
    engine = Engine(
        Settings(interval=0.2),
        hermetic_env / "state",
        (ServerTarget.at_path(str(tmux_server.socket)),),
    )
    app = GuardianApp(EngineService(engine))
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            table = app.query_one(SessionTable)
            if table.rows_by_key:
                break
        key = next(iter(table.rows_by_key))
        assert str(table.get_row(key)[0]) == name
    assert app.return_code in (None, 0)


def test_dry_run_history_and_warnings_show_escapes_visibly(
    guardian, tmux_server: PrivateServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """tmux reports a directory as it is, escape sequences and all: a hostile checkpoint
    could make the dry run show something other than what runs."""
    t = tmux_server
    sock = str(t.socket)
    hostile = tmp_path / "dir\x1b]0;pwned\x07\x1b[2J"
    hostile.mkdir()
    t.cmd("new-session", "-d", "-s", "work", "-c", str(hostile))
    wait_until(lambda: "\x1b" in t.cmd("list-panes", "-a", "-F", "#{pane_current_path}"))
    assert guardian("-S", sock, "snapshot").code == 0
    shutil.rmtree(hostile)  # gone: the restore warns about it, naming it
    t.crash()
    dry = guardian("-S", sock, "restore", "--dry-run")
    assert "\x1b" not in dry.out and "^[]0;pwned^G^[[2J" in dry.out, dry.out
    done = guardian("-S", sock, "restore")
    assert "no longer exists" in done.out
    assert "\x1b" not in done.out + done.err and "^[[2J" in done.out
    history = guardian("history")
    assert "\x1b" not in history.out + history.err


# -- 9. bounds on every number and argument --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[retention]\ndaily_days = 99999999999\n", "retention.daily_days"),
        ("checkpoint_interval = inf\n", "checkpoint_interval"),
        ("grace_period = inf\n", "grace_period"),
        ("freeze_grace = inf\n", "freeze_grace"),
        ("[backoff]\nmax = inf\n", "backoff.max"),
    ],
)
def test_config_numbers_are_finite_and_bounded(
    guardian, hermetic_env: Path, text: str, key: str
) -> None:  # type: ignore[no-untyped-def]
    config(hermetic_env, text)
    result = guardian("-S", "/tmp/tg-none/s", "status")
    assert result.code == 2 and f"key '{key}'" in result.err and "Traceback" not in result.err


@pytest.mark.parametrize(
    "argv",
    [
        ["watch", "--interval", "nan"],
        ["watch", "--interval", "1e-300"],
        ["watch", "--interval", "inf"],
        ["restore", "--checkpoint", "20261399T999999.000000Z-ab12"],
        ["history", "--limit", "-5"],
        ["forget", ""],
        ["restore", "--as", "", "work"],
    ],
)
def test_arguments_out_of_bounds_are_usage_errors(guardian, argv: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = guardian("-S", "/tmp/tg-none/s", *argv)
    assert result.code == 2, result
    assert "Traceback" not in result.err and result.err.count("\n") == 1


def test_a_socket_path_too_long_for_the_kernel_is_refused(guardian) -> None:  # type: ignore[no-untyped-def]
    path = "/tmp/" + "d" * 110 + "/s"
    result = guardian("-S", path, "watch", "--once")
    assert result.code == 2 and "at most 107" in result.err


def test_a_fifo_as_config_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    argv = [sys.executable, "-m", "guardian.cli", "--config", str(fifo), "status"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    assert done.returncode == 2 and "not a regular file" in done.stderr


def test_a_closed_pipe_ends_quietly(guardian, hermetic_env: Path) -> None:  # type: ignore[no-untyped-def]
    from recovery.journal import Journal, JournalEntry

    entries = [
        JournalEntry(at=datetime.now(UTC), server="/s", session=f"s{i}", kind="note", outcome="x")
        for i in range(5000)
    ]
    Journal(hermetic_env / "state").append_many(entries)
    command = f"{shlex.quote(sys.executable)} -m guardian.cli history --limit 5000 | head -1"
    done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=30)
    assert done.stdout.count("\n") == 1 and done.stderr == ""


# -- 10. tmux-conf -------------------------------------------------------------------------


def test_tmux_conf_install_edits_a_linked_file_through_its_target(
    guardian, hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    dotfiles = hermetic_env / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "tmux.conf"
    real.write_text("set -g mouse on\n")
    real.chmod(0o644)
    link = hermetic_env / "home" / ".tmux.conf"
    link.symlink_to(real)
    result = guardian("-S", "/tmp/tg-x/s", "tmux-conf", "--install", str(link))
    assert result.code == 0, result
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert "tmux-guardian" in real.read_text() and stat.S_IMODE(real.stat().st_mode) == 0o644


def test_tmux_conf_lines_never_run_a_socket_directory_name(guardian, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "home" / "SOURCED"
    hostile = tmp_path / "$(cd;touch SOURCED)"  # run, it would touch ~/SOURCED
    hostile.mkdir()
    result = guardian("-S", str(hostile / "s"), "tmux-conf")
    assert result.code == 2 and "cannot write a tmux.conf line" in result.err
    assert result.out == "" and not marker.exists()
    # a tmux that sources the lines of a server in an ordinary directory runs nothing else
    plain = PrivateServer(tmp_path / "s")
    plain.cmd("new-session", "-d", "-s", "conf")
    try:
        conf = tmp_path / "lines.conf"
        conf.write_text(guardian("-S", str(plain.socket), "tmux-conf").out)
        plain.cmd("source-file", str(conf))
        assert "display-popup" in plain.cmd("list-keys", "-T", "prefix")
    finally:
        plain.cmd("kill-server", check=False)
