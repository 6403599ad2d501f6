"""Agents and editors come back where they were, after a real crash (kill -9 of the server,
its programs' zombies held 2 s, the rebuild at once). The agents are stand-ins that leave
exactly the on-disk state the real tools leave (tests/standins/, each citing the source
it follows); which conversation each pane runs afterwards is read from the tools' own
state of the NEW processes (Claude's per-pid file, the rollout file Codex holds open),
never from our journal or checkpoints."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from config.settings import Settings
from tests.conftest import PrivateServer, wait_until
from tests.test_real_crash import crash_and_rebuild
from tests.test_watcher import FAST, engine_for
from tests.zombies import ZombieHolder

pytestmark = pytest.mark.tmux

STANDINS = Path(__file__).parent / "standins" / "bin"


@pytest.fixture
def agents_server(
    hermetic_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[PrivateServer, ZombieHolder, Path]]:
    """A server (its zombies held) whose panes find the stand-ins first on PATH: the login
    shell's /etc/profile resets PATH, so, as for a person's npm tools, ~/.profile adds them."""
    monkeypatch.setenv("PATH", f"{STANDINS}{os.pathsep}{os.environ['PATH']}")
    (hermetic_env / "home" / ".profile").write_text(f'PATH="{STANDINS}:$PATH"\n')
    work = Path(os.path.realpath(tmp_path)) / "work"
    work.mkdir()
    (work / "notes.txt").write_text("notes\n")
    server = PrivateServer(Path(os.path.realpath(tmp_path)) / "s")
    first = ("-s", "work", "-n", "a1", "-x", "160", "-y", "48", "-c", str(work))
    holder = ZombieHolder(server.socket, *first)
    try:
        yield server, holder, work
    finally:
        server.stop(holder)


def type_line(t: PrivateServer, target: str, text: str) -> None:
    t.cmd("send-keys", "-t", target, "-l", text)
    t.cmd("send-keys", "-t", target, "Enter")


def window(t: PrivateServer, name: str, work: Path, command: str) -> None:
    t.cmd("new-window", "-t", "=work:", "-n", name, "-c", str(work))
    type_line(t, f"=work:{name}", command)


def foreground(t: PrivateServer, name: str) -> list[psutil.Process]:
    """The processes of a window's foreground job, and their children (a launcher's)."""
    pane_pid = int(t.cmd("display-message", "-p", "-t", f"=work:{name}", "#{pane_pid}"))
    group = int(Path(f"/proc/{pane_pid}/stat").read_text().rsplit(")", 1)[1].split()[5])
    found = []
    for proc in psutil.process_iter(["pid"]):
        with contextlib.suppress(ProcessLookupError, psutil.Error):
            if os.getpgid(proc.pid) == group and proc.pid != pane_pid:
                found += [proc, *proc.children(recursive=True)]
    return found


def claude_conversation(t: PrivateServer, name: str, home: Path) -> str | None:
    """What the running claude of a window says it runs: its own per-pid file."""
    for proc in foreground(t, name):
        record = home / ".claude" / "sessions" / f"{proc.pid}.json"
        with contextlib.suppress(OSError, ValueError):
            return str(json.loads(record.read_text())["sessionId"])
    return None


def codex_conversation(t: PrivateServer, name: str) -> str | None:
    """The rollout file the running codex holds open (in the launcher's child)."""
    for proc in foreground(t, name):
        with contextlib.suppress(psutil.Error):
            for handle in proc.open_files():
                match = re.search(r"/rollout-.*-([0-9a-f-]{36})\.jsonl$", handle.path)
                if match:
                    return match.group(1)
    return None


def cmdline_of(t: PrivateServer, name: str, program: str) -> list[str] | None:
    for proc in foreground(t, name):
        with contextlib.suppress(psutil.Error):
            argv = proc.cmdline()
            if argv and Path(argv[0]).name == program:
                return argv
    return None


def make_vim_session(work: Path) -> Path:
    subprocess.run(
        ["vim", "-N", "-u", "NONE", "-i", "NONE", "-es", "-c", "edit notes.txt",
         "-c", "mksession! Session.vim", "-c", "qa!"],
        cwd=work, check=False, timeout=20, capture_output=True,
    )  # fmt: skip
    session = work / "Session.vim"
    assert session.exists()
    session.chmod(0o600)
    return session


def test_each_agent_resumes_its_own_conversation_after_the_watchers_rebuild(
    agents_server: tuple[PrivateServer, ZombieHolder, Path], hermetic_env: Path
) -> None:
    """Two claude panes in ONE directory, a codex pane (the npm launcher) and a vim with a
    Session.vim: after kill -9 and the watcher's rebuild, each agent runs its own
    conversation and vim runs with -S."""
    from guardian.watch.guard import GuardOptions, ServerGuard

    t, holder, work = agents_server
    home = hermetic_env / "home"
    session_file = make_vim_session(work)
    type_line(t, "=work:a1", "claude")
    window(t, "a2", work, "claude --model opus")
    window(t, "cx", work, "codex -m o3")
    window(t, "vim", work, "vim -n notes.txt")
    for name in ("a1", "a2", "cx", "vim"):
        t.cmd("set-option", "-w", "-t", f"=work:{name}", "automatic-rename", "off")
    wait_until(lambda: claude_conversation(t, "a1", home) and claude_conversation(t, "a2", home))
    for name in ("a1", "a2", "cx"):
        type_line(t, f"=work:{name}", f"hello from {name}")
    wait_until(lambda: codex_conversation(t, "cx") is not None)
    before = {
        "a1": claude_conversation(t, "a1", home),
        "a2": claude_conversation(t, "a2", home),
        "cx": codex_conversation(t, "cx"),
    }
    assert len(set(before.values())) == 3
    project = home / ".claude" / "projects" / str(work).replace("/", "-").replace("_", "-")
    wait_until(lambda: all((project / f"{before[n]}.jsonl").exists() for n in ("a1", "a2")))

    settings = FAST.model_copy(update={"allowlist": (*Settings().allowlist,)})
    assert isinstance(settings, Settings)
    engine = engine_for(t, hermetic_env / "state", settings)
    guard = ServerGuard(engine, engine.servers[0], GuardOptions())
    guard.poll()  # checkpoints (checkpoint_interval 0)
    crash_and_rebuild(t, holder, guard.poll)
    assert holder.held_zombies(), "not at real timing"

    def resumed() -> bool:
        return {
            "a1": claude_conversation(t, "a1", home),
            "a2": claude_conversation(t, "a2", home),
            "cx": codex_conversation(t, "cx"),
        } == before

    wait_until(resumed, timeout=15)
    vim = cmdline_of(t, "vim", "vim")
    assert vim is not None and vim[1:] == ["-S", str(session_file)]
    assert cmdline_of(t, "a2", "claude") is not None
    for name in ("a1", "a2", "cx"):
        text = t.cmd("capture-pane", "-p", "-t", f"=work:{name}")
        assert f"resumed conversation {before[name]}" in text
