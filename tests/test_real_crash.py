"""Every program back after a real crash, at real timing: the server is killed -9 while
its programs are still dying (their zombies held 2 s by a subreaper, as a slow init or a
container's would), and the restore runs AT ONCE — by a person, and by the watcher. What
runs afterwards is counted from each pane's foreground processes in /proc, never from the
journal."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from config.settings import Settings
from tests.conftest import PrivateServer, wait_until
from tests.test_watcher import FAST, engine_for
from tests.zombies import ZombieHolder

pytestmark = pytest.mark.tmux

ALLOW = ("vim", "less", "tail", "top", "grep")
PROGRAMS = {
    "vim": "vim -n 'file with spaces.txt'",
    "less": "less -S README",
    "top": "top -d 60",
    "pipeline": "tail -f app.log | grep --line-buffered ERROR",
}
EXPECTED = {
    "vim": [["vim", "-n", "file with spaces.txt"]],
    "less": [["less", "-S", "README"]],
    "top": [["top", "-d", "60"]],
    "pipeline": [["tail", "-f", "app.log"], ["grep", "--line-buffered", "ERROR"]],
    "own": [["tail", "-f", "app.log"]],
}


def foreground_job(pane_pid: int) -> list[list[str]]:
    """argv of every process in the pane's foreground process group, oldest first."""
    try:
        tpgid = int(Path(f"/proc/{pane_pid}/stat").read_text().rsplit(")", 1)[1].split()[5])
    except (OSError, IndexError):
        return []
    members = []
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if os.getpgid(process.pid) == tpgid and process.info["status"] != "zombie":
                members.append((process.create_time(), process.pid, process.info["cmdline"]))
        except (ProcessLookupError, psutil.Error):
            continue
    # tmux starts a pane's own command through `sh -c`: the wrapper is not a program
    wrapped = [argv for _, _, argv in sorted(members)]
    return [argv for argv in wrapped if not (len(argv) > 1 and argv[1] == "-c")]


def jobs_of_pane(t: PrivateServer, index: int) -> list[list[str]]:
    return foreground_job(int(t.lines("#{pane_pid}")[index]))


def jobs(t: PrivateServer) -> dict[str, list[list[str]]]:
    found = {}
    for line in t.lines("#{window_name}\t#{pane_pid}"):
        name, pid = line.split("\t")
        found[name] = foreground_job(int(pid))
    return found


@pytest.fixture
def held_server(tmp_path: Path) -> Iterator[tuple[PrivateServer, ZombieHolder]]:
    work = tmp_path / "work"
    work.mkdir()
    (work / "file with spaces.txt").write_text("text\n")
    (work / "README").write_text("read me\n" * 50)
    (work / "app.log").write_text("start\n")
    directory = Path(os.path.realpath(tmp_path))
    server = PrivateServer(directory / "s")
    first = ("-s", "work", "-n", "vim", "-x", "160", "-y", "48", "-c", str(work))
    holder = ZombieHolder(server.socket, *first)
    try:
        yield server, holder
    finally:
        server.stop(holder)


def build(t: PrivateServer, cwd: Path) -> None:
    """One window per program, typed at a shell as a person would; and a `tail -f` that is
    its pane's own command."""
    t.cmd("send-keys", "-t", "=work:vim", "-l", PROGRAMS["vim"])
    t.cmd("send-keys", "-t", "=work:vim", "Enter")
    for name in ("less", "top", "pipeline"):
        t.cmd("new-window", "-t", "=work:", "-n", name, "-c", str(cwd))
        t.cmd("send-keys", "-t", f"=work:{name}", "-l", PROGRAMS[name])
        t.cmd("send-keys", "-t", f"=work:{name}", "Enter")
    t.cmd("new-window", "-t", "=work:", "-n", "own", "-c", str(cwd), "tail -f app.log")
    for name in ("vim", "less", "top", "pipeline", "own"):
        t.cmd("set-option", "-w", "-t", f"=work:{name}", "automatic-rename", "off")
    wait_until(lambda: jobs(t) == EXPECTED, timeout=10)


def crash_now(t: PrivateServer, holder: ZombieHolder) -> None:
    """kill -9 of the server alone: its programs die of SIGHUP on their own, and stay
    zombies for 2 s."""
    pid = t.pid()
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie")


def crash_and_rebuild(t: PrivateServer, holder: ZombieHolder, poll: Callable[[], object]) -> None:
    """A real crash, then the watcher's polls until it has rebuilt the server, at once
    (its programs' zombies still held)."""
    crash_now(t, holder)
    deadline = time.monotonic() + 10
    while not t.pane_pids():
        poll()
        assert time.monotonic() < deadline


def test_restore_at_once_after_a_crash_brings_back_every_program(
    guardian, held_server: tuple[PrivateServer, ZombieHolder], hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    t, holder = held_server
    (hermetic_env / "config.toml").write_text(f"allowlist = {list(ALLOW)!r}\n")
    build(t, t.socket.parent / "work")
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    crash_now(t, holder)
    started = time.monotonic()
    result = guardian("-S", str(t.socket), "restore")
    assert time.monotonic() - started < 1.8 and holder.held_zombies(), "not at real timing"
    assert result.code == 0, result
    assert "survived" not in result.out
    wait_until(lambda: jobs(t) == EXPECTED, timeout=10)


def test_the_watcher_rebuilds_every_program_after_a_real_crash(
    held_server: tuple[PrivateServer, ZombieHolder], hermetic_env: Path
) -> None:
    from guardian.watch.guard import GuardOptions, ServerGuard

    t, holder = held_server
    settings = FAST.model_copy(update={"allowlist": ALLOW})
    assert isinstance(settings, Settings)
    build(t, t.socket.parent / "work")
    engine = engine_for(t, hermetic_env / "state", settings)
    guard = ServerGuard(engine, engine.servers[0], GuardOptions())
    guard.poll()  # checkpoints everything (checkpoint_interval 0)
    crash_and_rebuild(t, holder, guard.poll)
    assert holder.held_zombies(), "not at real timing"
    wait_until(lambda: jobs(t) == EXPECTED, timeout=10)


def test_a_real_survivor_is_reported_and_never_started_twice(
    guardian, held_server: tuple[PrivateServer, ZombieHolder], hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    """A program that ignores SIGHUP outlives its server; the others die as zombies."""
    t, holder = held_server
    (hermetic_env / "config.toml").write_text(f"allowlist = {list(ALLOW)!r}\n")
    work = t.socket.parent / "work"
    t.cmd("send-keys", "-t", "=work:vim", "-l", "nohup tail -f app.log >/dev/null 2>&1")
    t.cmd("send-keys", "-t", "=work:vim", "Enter")
    t.cmd("new-window", "-t", "=work:", "-n", "less", "-c", str(work))
    t.cmd("send-keys", "-t", "=work:less", "-l", PROGRAMS["less"])
    t.cmd("send-keys", "-t", "=work:less", "Enter")
    wait_until(lambda: jobs(t).get("less") == EXPECTED["less"] and jobs(t).get("vim"))
    survivor = [
        p
        for p in psutil.process_iter(["cmdline", "cwd"])
        if p.info["cmdline"] == ["tail", "-f", "app.log"] and p.info["cwd"] == str(work)
    ]
    assert len(survivor) == 1
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    crash_now(t, holder)
    result = guardian("-S", str(t.socket), "restore")
    assert result.code == 0, result
    pid = survivor[0].pid
    assert f"tail -f app.log, pid {pid}, survived the crash and still runs" in result.out
    wait_until(lambda: jobs(t).get("less") == EXPECTED["less"])
    text = t.cmd("capture-pane", "-pJ", "-t", "=work:0")
    assert f"pid {pid}, survived the crash and still runs: not started twice" in text
    tails = [
        p
        for p in psutil.process_iter(["cmdline", "cwd"])
        if p.info["cmdline"] == ["tail", "-f", "app.log"] and p.info["cwd"] == str(work)
    ]
    assert [p.pid for p in tails] == [pid]  # never started twice
    history = guardian("history").out
    assert "survived" in history
    survivor[0].kill()


def test_replace_restarts_the_programs_of_the_session_it_replaces(
    guardian, tmux_server: PrivateServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """`restore --replace` kills the live session's programs: it must start them again
    (they are not "survivors" of a session it is about to kill); the dry run says so."""
    t = tmux_server
    (tmp_path / "README").write_text("r\n" * 50)
    (tmp_path / "app.log").write_text("x\n")
    t.cmd(
        "new-session",
        "-d",
        "-s",
        "work",
        "-n",
        "less",
        "-x",
        "120",
        "-y",
        "30",
        "-c",
        str(tmp_path),
    )
    t.cmd("send-keys", "-t", "=work:less", "-l", "less -S README")
    t.cmd("send-keys", "-t", "=work:less", "Enter")
    t.cmd("new-window", "-t", "=work:", "-n", "own", "-c", str(tmp_path), "tail -f app.log")
    for name in ("less", "own"):
        t.cmd("set-option", "-w", "-t", f"=work:{name}", "automatic-rename", "off")
    want = {"less": [["less", "-S", "README"]], "own": [["tail", "-f", "app.log"]]}
    wait_until(lambda: jobs(t) == want)
    before = set(t.lines("#{pane_pid}"))
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    dry = guardian("-S", str(t.socket), "restore", "work", "--replace", "--dry-run")
    assert "shell, then runs less -S README" in dry.out and "runs tail -f app.log" in dry.out
    assert "not started twice" not in dry.out
    result = guardian("-S", str(t.socket), "restore", "work", "--replace")
    assert result.code == 0, result
    wait_until(lambda: jobs(t) == want)
    assert not before & set(t.lines("#{pane_pid}"))  # new panes, programs again
    assert list(t.cmd("list-sessions", "-F", "#{session_name}").split()) == ["work"]


def test_pane_text_with_colours_survives_a_crash_including_what_came_after_the_last_change(
    held_server: tuple[PrivateServer, ZombieHolder], hermetic_env: Path
) -> None:
    from guardian.watch.guard import GuardOptions, ServerGuard

    t, holder = held_server
    settings = FAST.model_copy(
        update={"capture_contents": True, "checkpoint_interval": 0.3, "allowlist": ALLOW}
    )
    assert isinstance(settings, Settings)
    engine = engine_for(t, hermetic_env / "state", settings)
    guard = ServerGuard(engine, engine.servers[0], GuardOptions())
    pane = "=work:vim"
    t.cmd("send-keys", "-t", pane, "-l", r"printf '\033[31mRED BEFORE\033[0m\n'")
    t.cmd("send-keys", "-t", pane, "Enter")
    wait_until(lambda: "RED BEFORE" in t.cmd("capture-pane", "-p", "-t", pane).split("printf")[-1])
    guard.poll()  # the structure's checkpoint, with this text
    t.cmd("send-keys", "-t", pane, "-l", r"printf '\033[1;32mGREEN AFTER\033[0m\n'")
    t.cmd("send-keys", "-t", pane, "Enter")  # text only: no structural change
    wait_until(lambda: "GREEN AFTER" in t.cmd("capture-pane", "-p", "-t", pane).split("printf")[-1])
    time.sleep(0.35)
    guard.poll()  # the interval passed: the text changed, so it is saved again
    crash_and_rebuild(t, holder, guard.poll)

    def shown() -> str:
        return t.cmd("capture-pane", "-p", "-e", "-t", pane)

    wait_until(lambda: "GREEN AFTER" in shown())
    text = shown()
    assert re.search(r"\x1b\[[0-9;]*31m(\x1b\[[0-9;]*m)*RED BEFORE", text), text
    assert re.search(r"\x1b\[[0-9;]*32m(\x1b\[[0-9;]*m)*GREEN AFTER", text), text


def test_panes_running_a_secret_program_are_never_captured(
    guardian, tmux_server: PrivateServer, tmp_path: Path, hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    from recovery.checkpoint import decompress_text

    t = tmux_server
    vault = tmp_path / "vault"
    vault.write_text("#!/bin/sh\necho 's3cr3t-token-value'\nsleep 1000\n")
    vault.chmod(0o755)
    (hermetic_env / "config.toml").write_text("capture_contents = true\n")
    t.cmd("new-session", "-d", "-s", "work", "-c", str(tmp_path))
    t.cmd("split-window", "-t", "=work:", "-c", str(tmp_path))
    t.cmd("send-keys", "-t", "=work:0.0", "echo visible-text", "Enter")
    t.cmd("send-keys", "-t", "=work:0.1", f"{vault}", "Enter")
    wait_until(lambda: "s3cr3t" in t.cmd("capture-pane", "-p", "-t", "=work:0.1"))
    wait_until(lambda: any("vault" in " ".join(argv) for argv in jobs_of_pane(t, 1)))
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    payload = json.loads(next((hermetic_env / "state").rglob("checkpoints/*/*/*.json")).read_text())
    contents = {k: decompress_text(v) for k, v in payload["payload"]["contents"].items()}
    assert "visible-text" in contents["0.0"] and "0.1" not in contents


def test_panes_of_a_server_a_restore_starts_never_inherit_our_own_settings(
    guardian, held_server: tuple[PrivateServer, ZombieHolder], hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    """What the tool sets for itself (pydantic's plugin switch) never reaches a person's
    shells: found by comparing our restores with `tmuxp load` (scripts/compare_tmuxp.py)."""
    from guardian.own_environment import OWN

    assert "PYDANTIC_DISABLE_PLUGINS" in OWN  # set by us in this process, not the person
    t, holder = held_server
    assert guardian("-S", str(t.socket), "snapshot").code == 0
    crash_now(t, holder)
    assert guardian("-S", str(t.socket), "restore").code == 0
    wait_until(lambda: t.pane_pids() != [])
    for pid in t.pane_pids():
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert not [v for v in environ if v.startswith(b"PYDANTIC_DISABLE_PLUGINS=")]
