"""Living with it: the systemd user unit and the tmux.conf lines, as text and idempotent."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from guardian.install.systemd import render_unit, systemd_quote
from tests.conftest import PrivateServer


def test_unit_runs_watch_and_never_kills_the_servers() -> None:
    unit = render_unit("/opt/my tools/tmux-guardian", ["-S", "/tmp/100%/s", "--state-dir", "/st"])
    lines = unit.splitlines()
    assert (
        'ExecStart="/opt/my tools/tmux-guardian" -S "/tmp/100%%/s" --state-dir /st watch' in lines
    )
    assert "KillMode=process" in lines and "Restart=on-failure" in lines
    assert "WantedBy=default.target" in lines and "Type=simple" in lines


@pytest.mark.parametrize(
    ("word", "quoted"),
    [("plain", "plain"), ("a b", '"a b"'), ('q"x', '"q\\"x"'), ("$HOME", '"$$HOME"'), ("", '""')],
)
def test_systemd_quoting(word: str, quoted: str) -> None:
    assert systemd_quote(word) == quoted


@pytest.fixture
def fake_systemctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Containers run no systemd user manager: a stand-in that records what it was asked."""
    log = tmp_path / "systemctl.log"
    script = tmp_path / "systemctl"
    script.write_text(
        f'#!/bin/sh\necho "$@" >> {log}\ncase "$2" in is-active) echo active;; '
        "is-enabled) echo enabled;; esac\nexit 0\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("TMUX_GUARDIAN_SYSTEMCTL", str(script))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return log


def test_service_install_is_idempotent_and_uninstall_removes(
    guardian, fake_systemctl: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    first = guardian(
        "-S", "/tmp/guarded.sock", "--state-dir", str(tmp_path / "st"), "service", "install"
    )
    assert first.code == 0, first
    unit = tmp_path / "config" / "systemd" / "user" / "tmux-guardian.service"
    text = unit.read_text()
    assert f"-S /tmp/guarded.sock --state-dir {tmp_path / 'st'} watch" in text
    assert "loginctl enable-linger" in first.out
    calls = fake_systemctl.read_text().splitlines()
    assert "--user daemon-reload" in calls and "--user enable --now tmux-guardian.service" in calls
    again = guardian(
        "-S", "/tmp/guarded.sock", "--state-dir", str(tmp_path / "st"), "service", "install"
    )
    assert again.code == 0 and "unchanged" in again.out and unit.read_text() == text
    status = guardian("service", "status")
    assert status.code == 0 and "active, enabled" in status.out
    gone = guardian("service", "uninstall")
    assert gone.code == 0 and not unit.exists()
    assert "--user disable --now tmux-guardian.service" in fake_systemctl.read_text()


def test_without_systemd_it_says_so_and_prints_what_to_run(
    guardian, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TMUX_GUARDIAN_SYSTEMCTL", str(tmp_path / "no-such-systemctl"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    result = guardian("-L", "work", "service", "install")
    assert result.code == 1
    assert "not available" in result.out and "nohup " in result.out
    assert "-L work watch --quiet" in result.out
    assert not (tmp_path / "config" / "systemd").exists()


def test_tmux_conf_install_twice_changes_nothing(
    guardian, tmux_server: PrivateServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    conf = tmp_path / "tmux.conf"
    conf.write_text("set -g mouse on\nbind-key x kill-pane\n")
    first = guardian("tmux-conf", "--watch", "--install", str(conf))
    assert first.code == 0 and "added" in first.out
    once = conf.read_text()
    assert once.startswith("set -g mouse on\nbind-key x kill-pane\n")
    assert once.count("# >>> tmux-guardian >>>") == 1 and "watch --quiet" in once
    second = guardian("tmux-conf", "--watch", "--install", str(conf))
    assert "already up to date" in second.out and conf.read_text() == once
    third = guardian("tmux-conf", "--install", str(conf))  # without --watch: block replaced
    assert "updated" in third.out and "watch --quiet" not in conf.read_text()
    assert conf.read_text().count("bind-key g display-popup") == 1
    # and tmux itself accepts the lines
    tmux_server.cmd("new-session", "-d", "-s", "c")
    tmux_server.cmd("source-file", str(conf))
    keys = tmux_server.cmd("list-keys", "-T", "prefix")
    assert "display-popup" in keys and "snapshot --json" in keys


class RecordingAdapter:
    """Stands in for tmux only here: on this tmux 3.3a a client attached through `script`
    crashes the server, and control clients never show messages, so a real attached
    client that sees `display-message` cannot be produced in tests."""

    def __init__(self, clients: str, control_client_pid: int | None = None) -> None:
        self.clients = clients
        self.control_client_pid = control_client_pid
        self.sent: list[list[list[str]]] = []

    def run(self, args: list[str], **_: object) -> str:
        assert args[:3] == ["list-clients", "-F", "#{client_pid} #{client_name}"]
        return self.clients

    def run_commands(self, commands: list[list[str]], **_: object) -> str:
        self.sent.append(commands)
        return ""


@pytest.mark.parametrize("enabled", [True, False])
def test_recoveries_are_told_to_attached_clients(tmp_path: Path, enabled: bool) -> None:
    from config.settings import Settings
    from guardian.operations.engine import Engine
    from guardian.tmux.targets import ServerTarget
    from guardian.watch.guard import ServerGuard

    target = ServerTarget.at_path(str(tmp_path / "s"))
    engine = Engine(Settings(notifications=enabled), tmp_path / "state", (target,))
    guard = ServerGuard(engine, target)
    # the watcher's own control client (pid 555) reads nothing: never told
    fake = RecordingAdapter("101 /dev/pts/3\n555 client-555\n102 /dev/pts/7\n", 555)
    guard.adapter = fake  # type: ignore[assignment]
    guard._notify("recovered 'w#1' (crashed)")
    if not enabled:
        assert fake.sent == []
        return
    (commands,) = fake.sent
    assert [c[:3] for c in commands] == [
        ["display-message", "-c", "/dev/pts/3"],
        ["display-message", "-c", "/dev/pts/7"],
    ]
    assert commands[0][-1] == "tmux-guardian: recovered 'w##1' (crashed)"  # `#` is not a format


def test_uninstall_takes_back_what_it_put_into_tmux_and_keeps_the_checkpoints(
    guardian, tmux_server: PrivateServer, hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    """After a watcher killed -9 (its hook and option left in the server) and the
    tmux.conf lines installed and loaded: `uninstall` removes the hook, puts the person's
    `remain-on-exit` back, unbinds our keys (theirs stay), takes our block out of
    ~/.tmux.conf (the rest kept) and keeps the checkpoints; `--purge` removes those too."""
    import signal
    import subprocess
    import sys

    from tests.conftest import wait_until

    t = tmux_server
    t.cmd("new-session", "-d", "-s", "work")
    t.cmd("set-option", "-gw", "remain-on-exit", "off")
    conf = hermetic_env / "home" / ".tmux.conf"
    conf.write_text("set -g mouse on\nbind-key x kill-pane\n")
    assert guardian("-S", str(t.socket), "tmux-conf", "--install").code == 0
    t.cmd("source-file", str(conf))
    watcher = subprocess.Popen(
        [sys.executable, "-m", "guardian.cli", "-S", str(t.socket), "watch", "--interval", "0.2"]
    )
    try:
        wait_until(lambda: "session-closed[42]" in t.cmd("show-hooks", "-g", "session-closed"))
        wait_until(lambda: list((hermetic_env / "state").rglob("checkpoints/*/*/*.json")))
    finally:
        watcher.send_signal(signal.SIGKILL)  # no clean stop: everything is left behind
        watcher.wait(10)
    assert t.cmd("show-options", "-gwv", "remain-on-exit").strip() == "failed"

    done = guardian("-S", str(t.socket), "uninstall")
    assert done.code == 0, done
    assert "session-closed[42]" not in t.cmd("show-hooks", "-g", "session-closed")
    assert t.cmd("show-options", "-gwv", "remain-on-exit").strip() == "off"
    keys = t.cmd("list-keys", "-T", "prefix")
    assert "tmux-guardian" not in keys and "kill-pane" in keys
    assert conf.read_text() == "set -g mouse on\nbind-key x kill-pane\n"
    assert list((hermetic_env / "state").rglob("checkpoints/*/*/*.json"))
    assert "checkpoints kept" in done.out

    purged = guardian("-S", str(t.socket), "uninstall", "--purge")
    assert purged.code == 0, purged
    assert not (hermetic_env / "state").exists()
    assert not (hermetic_env / "key" / "signing.key").exists()
