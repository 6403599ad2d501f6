"""Agents and editors come back where they were, after a real crash (kill -9 of the server,
its programs' zombies held 2 s, the rebuild at once). The agents are stand-ins that leave
exactly the on-disk state the real tools leave (tests/standins/, each citing the source
it follows); which conversation each pane runs afterwards is read from the tools' own
state of the NEW processes (Claude's per-pid file, the rollout file Codex holds open),
never from our journal or checkpoints."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from config.settings import Settings
from tests.conftest import PrivateServer, wait_until
from tests.test_real_crash import crash_and_rebuild, crash_now
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


def transcript(home: Path, work: Path, session_id: str | None) -> Path:
    slug = re.sub(r"[^A-Za-z0-9]", "-", str(work))
    return home / ".claude" / "projects" / slug / f"{session_id}.jsonl"


def claude_talking(t: PrivateServer, work: Path, home: Path, words: str) -> str | None:
    """`claude` started in window a1 and past its first message: its conversation id."""
    type_line(t, "=work:a1", "claude")
    wait_until(lambda: claude_conversation(t, "a1", home))
    type_line(t, "=work:a1", words)
    conversation = claude_conversation(t, "a1", home)
    wait_until(lambda: transcript(home, work, conversation).exists())
    return conversation


def build_agents(t: PrivateServer, work: Path, home: Path) -> dict[str, str | None]:
    """Two claude panes in one directory, an npm codex, a vim on its Session.vim; each
    agent has talked (so each has a conversation). Their ids, by window."""
    make_vim_session(work)
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
    wait_until(lambda: cmdline_of(t, "vim", "vim") is not None)
    ids = {
        "a1": claude_conversation(t, "a1", home),
        "a2": claude_conversation(t, "a2", home),
        "cx": codex_conversation(t, "cx"),
    }
    assert len(set(ids.values())) == 3
    return ids


def test_each_agent_resumes_its_own_conversation_after_the_watchers_rebuild(
    agents_server: tuple[PrivateServer, ZombieHolder, Path], hermetic_env: Path
) -> None:
    """Two claude panes in ONE directory, a codex pane (the npm launcher) and a vim with a
    Session.vim: after kill -9 and the watcher's rebuild, each agent runs its own
    conversation and vim runs with -S."""
    from guardian.watch.guard import GuardOptions, ServerGuard

    t, holder, work = agents_server
    home = hermetic_env / "home"
    before = build_agents(t, work, home)
    session_file = work / "Session.vim"
    wait_until(lambda: all(transcript(home, work, before[n]).exists() for n in ("a1", "a2")))

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


def shell_only(t: PrivateServer, name: str) -> bool:
    """The window's pane is at its shell: nothing in its foreground but the shell."""
    pane_pid = int(t.cmd("display-message", "-p", "-t", f"=work:{name}", "#{pane_pid}"))
    return foreground(t, name) == [] and psutil.Process(pane_pid).name() in ("sh", "dash")


def test_dry_run_and_restore_say_how_each_pane_comes_back_as_the_person_chose(
    guardian, agents_server: tuple[PrivateServer, ZombieHolder, Path], hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    """The dry run names each pane's come-back and how each id was found; a deleted
    conversation comes back as a shell in its directory with the reason; `--hold 2.0`
    types codex's resume at the prompt instead of running it."""
    t, holder, work = agents_server
    home = hermetic_env / "home"
    ids = build_agents(t, work, home)
    wait_until(lambda: transcript(home, work, ids["a2"]).exists())
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    crash_now(t, holder)
    transcript(home, work, ids["a2"]).unlink()  # the person deleted that conversation

    dry = guardian("-S", str(t.socket), "restore", "--dry-run", "--hold", "2.0")
    assert dry.code == 0, dry
    lines = {n: next(x for x in dry.out.splitlines() if f"'{n}'" in x) for n in (*ids, "vim")}
    pane_lines = dry.out.split("\n")
    after = {n: pane_lines[pane_lines.index(lines[n]) + 1] for n in (*ids, "vim")}
    assert f"claude: resumes conversation {ids['a1'][:8]}… (exact)" in after["a1"]  # type: ignore[index]
    assert f"runs claude --resume {ids['a1']}" in after["a1"]
    assert f"shell (claude conversation {ids['a2']} is gone (deleted or aged out))" in after["a2"]
    assert f"codex: resumes conversation {ids['cx'][:8]}… (exact)" in after["cx"]  # type: ignore[index]
    assert f"'codex resume {ids['cx']} -m o3' typed, not run" in after["cx"]
    assert "your choice for this pane: hold" in after["cx"]
    assert f"vim: its session, -S {work / 'Session.vim'}" in after["vim"]
    assert t.pane_pids() == []  # a dry run built nothing

    done = guardian("-S", str(t.socket), "restore", "--hold", "2.0")
    assert done.code == 0, done
    assert f"claude conversation {ids['a2']} is gone" in done.out
    wait_until(lambda: claude_conversation(t, "a1", home) == ids["a1"], timeout=10)
    wait_until(
        lambda: f"codex resume {ids['cx']} -m o3" in t.cmd("capture-pane", "-p", "-t", "=work:cx")
    )
    assert codex_conversation(t, "cx") is None and shell_only(t, "cx")
    assert shell_only(t, "a2")
    a2_pid = int(t.cmd("display-message", "-p", "-t", "=work:a2", "#{pane_pid}"))
    assert os.readlink(f"/proc/{a2_pid}/cwd") == str(work)
    vim = cmdline_of(t, "vim", "vim")
    assert vim is not None and vim[1:] == ["-S", str(work / "Session.vim")]


def test_after_clear_the_conversation_is_a_guess_and_the_restore_says_so(
    guardian, agents_server: tuple[PrivateServer, ZombieHolder, Path], hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    """`/clear` starts a new conversation the per-pid file does not name (as in the real
    tool): the newest transcript of the directory is resumed, and called a guess."""
    t, holder, work = agents_server
    home = hermetic_env / "home"
    first = claude_talking(t, work, home, "first words")
    time.sleep(0.05)  # the new transcript is strictly newer
    type_line(t, "=work:a1", "/clear")
    type_line(t, "=work:a1", "after the clear")
    project = transcript(home, work, first).parent
    wait_until(lambda: len(list(project.glob("*.jsonl"))) == 2)
    (newer,) = {p.stem for p in project.glob("*.jsonl")} - {first}
    assert claude_conversation(t, "a1", home) == first  # the pid file still says the old one
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    crash_now(t, holder)
    done = guardian("-S", str(t.socket), "restore")
    assert done.code == 0, done
    assert f"note: window 0 pane 0: claude: resumes conversation {newer[:8]}… (guess" in done.out
    wait_until(lambda: claude_conversation(t, "a1", home) == newer, timeout=10)


def test_a_session_vim_changed_since_the_checkpoint_is_not_loaded(
    guardian, agents_server: tuple[PrivateServer, ZombieHolder, Path], hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    """A Session.vim is a script: one rewritten since the checkpoint (a `git pull` of a
    repository that carries one) is not run; vim opens the same files."""
    t, holder, work = agents_server
    session = make_vim_session(work)
    type_line(t, "=work:a1", "vim -n notes.txt")
    wait_until(lambda: cmdline_of(t, "a1", "vim") is not None)
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    crash_now(t, holder)
    session.write_text(session.read_text() + '\n" changed by someone\n')
    done = guardian("-S", str(t.socket), "restore")
    assert done.code == 0, done
    assert "Session.vim changed or is not yours: not loaded" in done.out
    wait_until(lambda: cmdline_of(t, "a1", "vim") == ["vim", "-n", "notes.txt"], timeout=10)


def test_a_persons_own_program_entries_decide_how_their_panes_come_back(
    guardian, agents_server: tuple[PrivateServer, ZombieHolder, Path], hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    """`[[programs]]`: less comes back through the person's template (`+G`, at the end of
    the file), top held at the prompt; a template that would run a command (vim `+!`) is
    never run."""
    t, holder, work = agents_server
    (work / "README").write_text("read me\n" * 200)
    (hermetic_env / "config.toml").write_text(
        '[[programs]]\nname = "pager"\nmatch = "less *"\nmode = "run"\n'
        'restore = "{program} +G {args}"\n\n'
        '[[programs]]\nname = "monitor"\nmatch = "top*"\nmode = "hold"\n\n'
        '[[programs]]\nname = "sneaky"\nmatch = "vim *"\nmode = "run"\n'
        "restore = \"{program} '+!touch pwned' {args}\"\n"
    )
    type_line(t, "=work:a1", "less README")
    window(t, "top", work, "top -d 60")
    window(t, "vim", work, "vim -n notes.txt")
    for name in ("a1", "top", "vim"):
        t.cmd("set-option", "-w", "-t", f"=work:{name}", "automatic-rename", "off")
    wait_until(lambda: cmdline_of(t, "vim", "vim") is not None)
    wait_until(lambda: cmdline_of(t, "top", "top") is not None)
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    crash_now(t, holder)
    done = guardian("-S", str(t.socket), "restore")
    assert done.code == 0, done
    wait_until(lambda: cmdline_of(t, "a1", "less") == ["less", "+G", "README"], timeout=10)
    wait_until(lambda: "top -d 60" in t.cmd("capture-pane", "-p", "-t", "=work:top"))
    assert cmdline_of(t, "top", "top") is None
    assert cmdline_of(t, "vim", "vim") is None and not (work / "pwned").exists()
    assert "not run (Enter runs it) (vim: '+!touch pwned' is a command)" in done.out


def test_a_pane_choice_that_is_not_a_pane_is_a_usage_error(guardian, hermetic_env: Path) -> None:  # type: ignore[no-untyped-def]
    bad = guardian("restore", "--run", "1")
    assert bad.code == 2 and "'1' is not a pane" in bad.err
    both = guardian("-L", "tg-none-xyz", "restore", "--run", "1.0", "--shell", "1.0")
    assert both.code == 2 and "pane 1.0 is given both --shell and --run" in both.err


def started_id(t: PrivateServer, name: str) -> str | None:
    match = re.search(
        r"started conversation (\S+)", t.cmd("capture-pane", "-p", "-t", f"=work:{name}")
    )
    return match.group(1) if match else None


def test_opencode_gemini_and_aider_come_back_to_their_own_conversations(
    guardian, agents_server: tuple[PrivateServer, ZombieHolder, Path], hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    """OpenCode (its SQLite session table), Gemini (its project registry and chat files)
    and Aider (its chat history file, read back) after a crash and a restore at once."""
    t, holder, work = agents_server
    type_line(t, "=work:a1", "opencode")
    window(t, "gm", work, "gemini -m gemini-2.5-pro")
    window(t, "ai", work, "aider --model sonnet")
    for name in ("a1", "gm", "ai"):
        t.cmd("set-option", "-w", "-t", f"=work:{name}", "automatic-rename", "off")
    wait_until(lambda: started_id(t, "a1") and started_id(t, "gm"), timeout=10)
    wait_until(lambda: "aider ready" in t.cmd("capture-pane", "-p", "-t", "=work:ai"))
    for name in ("a1", "gm", "ai"):
        type_line(t, f"=work:{name}", f"hello from {name}")
    wait_until(lambda: "ok: hello from a1" in t.cmd("capture-pane", "-p", "-t", "=work:a1"))
    wait_until(lambda: (work / ".aider.chat.history.md").exists())
    before = {"a1": started_id(t, "a1"), "gm": started_id(t, "gm")}
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    crash_now(t, holder)
    done = guardian("-S", str(t.socket), "restore")
    assert done.code == 0, done

    def text(name: str) -> str:
        return t.cmd("capture-pane", "-p", "-t", f"=work:{name}")

    for name, session_id in before.items():
        wait_until(lambda n=name, s=session_id: f"resumed conversation {s}" in text(n), timeout=10)  # type: ignore[misc]
    wait_until(lambda: "restored chat history: 1 messages" in text("ai"), timeout=10)


def test_the_uis_detail_panel_says_how_each_pane_comes_back(
    guardian, agents_server: tuple[PrivateServer, ZombieHolder, Path], hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    """The UI's view of a live session: under each pane, how it would come back from the
    newest checkpoint (the service the UI is handed, against the real server)."""
    from guardian.view import EngineService

    t, _holder, work = agents_server
    home = hermetic_env / "home"
    conversation = claude_talking(t, work, home, "hello")
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    service = EngineService(engine_for(t, hermetic_env / "state", Settings()))
    try:
        overview = asyncio.run(service.poll())
        (row,) = [r for r in overview.sessions if r.name == "work"]
        (pane,) = service.detail(row).panes
    finally:
        service.stop()
    assert pane.comeback.startswith(f"claude: resumes conversation {conversation[:8]}… (exact)")  # type: ignore[index]
