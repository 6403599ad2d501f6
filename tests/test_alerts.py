"""Alerts: one JSON object per event on a person's command's stdin (never a secret), a
desktop notification over a real session bus, rate limits, bounded commands, config."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import psutil
import pytest

from config import ConfigError
from config.loading import settings_from_mapping
from config.outputs import Alerts
from config.settings import Settings
from guardian.operations.engine import Engine
from guardian.tmux.targets import ServerTarget
from guardian.watch.alert_channels import notify_desktop, run_bounded
from guardian.watch.alerting import AlertSender
from guardian.watch.guard import GuardOptions, ServerGuard
from guardian.watch.monitor import Monitor
from recovery.alerts import AlertEvent, AlertLimiter, action_event, failure_event
from recovery.health import Health, PaneIssue, Verdict
from recovery.journal import Journal
from recovery.models import ProgramState
from recovery.strategies import RecoveryPlan, Step, StepKind
from tests.conftest import PrivateServer, wait_until
from tests.test_install import RecordingAdapter
from tests.test_watcher import FAST

KEYS = {"event", "server", "session", "health", "action", "outcome", "duration_s", "at"}


def recorder(out: Path) -> tuple[str, ...]:
    """An alert command (argv, no shell) that appends its stdin to `out`."""
    code = "import sys; open(sys.argv[1], 'a').write(sys.stdin.read())"
    return (sys.executable, "-c", code, str(out))


def events_in(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []


def event(session: str = "w", kind: str = "crashed") -> AlertEvent:
    return AlertEvent(event=kind, server="s", session=session, health="crashed",  # type: ignore[arg-type]
                      at="2026-01-01T00:00:00+00:00")  # fmt: skip


# -- the payload: a whitelist, whatever the plan holds -----------------------------------


def test_a_respawn_plans_argv_never_reaches_the_payload() -> None:
    """`RecoveryPlan.describe` names the argv a respawn runs (and a held program's command
    line): the payload carries the KINDS of the steps only."""
    program = ProgramState(argv=("tail", "-f", "/srv/token=SECRET.log"), pid=1, started_at=0.0)
    pane = PaneIssue(pane_id="%1", window_index=0, pane_index=0, reason="SIGSEGV",
                     cwd="/srv/SECRET", program=program, is_shell=False)  # fmt: skip
    verdict = Verdict(server="/tmp/s", session="w", health=Health.CORRUPTED,
                      evidence=("tail -f /srv/token=SECRET.log died of SIGSEGV",),
                      damaged_panes=(pane,))  # fmt: skip
    plan = RecoveryPlan(
        verdict=verdict,
        steps=(
            Step(kind=StepKind.CHECKPOINT),
            Step(kind=StepKind.RESPAWN_PANE, pane_id="%1", cwd="/srv/SECRET", argv=program.argv),
            Step(kind=StepKind.NOTIFY, message="held: tail -f /srv/token=SECRET.log"),
        ),
    )
    assert "SECRET" in plan.describe()  # the bug this guards against: describe() leaks
    for made in (action_event("-L x", plan, True, 0.25, 0.0), failure_event("-L x", verdict, 0)):
        text = made.model_dump_json()
        assert "SECRET" not in text
        assert set(json.loads(text)) == KEYS
    assert (
        action_event("x", plan, True, 0.25, 0).action == "checkpoint, respawn pane, tell the person"
    )


def test_limiter_counts_the_overflow_and_says_it_once() -> None:
    limiter = AlertLimiter(per_minute=2)
    got = [limiter.admit("s\tw", t) for t in (0, 1, 2, 3, 4)]
    assert [a.send for a in got] == [True, True, False, False, False]
    assert [a.first_dropped for a in got] == [False, False, True, False, False]
    assert limiter.admit("s\tother", 5).send  # per session
    after = limiter.admit("s\tw", 61)  # the first minute's sends have aged out
    assert after.send and after.dropped_before == 3


# -- the command: background, bounded, journaled -------------------------------------------


def test_a_hanging_command_is_killed_with_its_children_at_the_timeout(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    argv = ["/bin/sh", "-c", f"sleep 30 & echo $! > {pids}; echo $$ >> {pids}; wait"]
    started = time.monotonic()
    error = run_bounded(argv, b"{}", timeout=0.5)
    assert error == "killed after 0.5 s"
    assert time.monotonic() - started < 3
    for pid in map(int, pids.read_text().split()):
        wait_until(lambda pid=pid: not psutil.pid_exists(pid) or psutil.Process(pid).status()
                   == psutil.STATUS_ZOMBIE, timeout=3)  # fmt: skip


def test_send_never_waits_and_failures_are_journaled(state_dir: Path) -> None:
    slow = ("/bin/sh", "-c", "cat >/dev/null; sleep 1; echo 'no route to pager' >&2; exit 3")
    settings = Settings(alerts=Alerts(command=slow, per_minute=10))
    sender = AlertSender(settings, Journal(state_dir), {"s": "/tmp/s"})
    started = time.monotonic()
    for n in range(4):
        sender.send(event(f"w{n}"))
    assert time.monotonic() - started < 0.2  # four 1 s commands, none waited for
    assert sender.flush(10)
    notes = [e for e in Journal(state_dir).read() if e.kind == "note"]
    assert len(notes) == 4 and {e.server for e in notes} == {"/tmp/s"}
    assert all(e.outcome == "alert command failed: exit status 3: no route to pager" for e in notes)


def test_rate_limit_per_session_is_said_once(state_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    settings = Settings(alerts=Alerts(command=recorder(out), per_minute=2))
    sender = AlertSender(settings, Journal(state_dir))
    for _ in range(5):
        sender.send(event("loop"))
    sender.send(event("calm"))
    assert sender.flush(10)
    assert [e["session"] for e in events_in(out)].count("loop") == 2
    assert [e["session"] for e in events_in(out)].count("calm") == 1
    said = [e.outcome for e in Journal(state_dir).read() if e.kind == "note"]
    assert said == ["more than 2 alerts a minute: the next ones are counted, not sent"]


def test_a_missing_program_is_journaled_not_raised(state_dir: Path) -> None:
    settings = Settings(alerts=Alerts(command=("/nonexistent/pager",)))
    sender = AlertSender(settings, Journal(state_dir))
    sender.send(event())
    assert sender.flush(5)
    (note,) = Journal(state_dir).read()
    assert note.outcome is not None and "cannot start '/nonexistent/pager'" in note.outcome


# -- desktop -------------------------------------------------------------------------------


def test_no_session_bus_means_no_notification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "ran"
    fake = tmp_path / "bin" / "notify-send"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\n: > {marker}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    assert notify_desktop(event()) is None
    assert not marker.exists()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
    assert notify_desktop(event()) is None and marker.exists()  # with a bus, it is used


@pytest.mark.skipif(
    not all(shutil.which(p) for p in ("dbus-daemon", "dbus-monitor", "gdbus")),
    reason="needs dbus-daemon, dbus-monitor and gdbus (Debian: dbus, libglib2.0-bin)",
)
def test_desktop_notification_goes_over_a_real_session_bus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A private session bus (never the person's): the Notify call is seen on it, with the
    summary and body made of the payload's fields. No notification daemon runs here, so
    the call itself ends in ServiceUnknown: that is what a failure reports."""
    daemon = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    monitor: subprocess.Popen[str] | None = None
    try:
        assert daemon.stdout is not None
        address = daemon.stdout.readline().strip()
        seen = tmp_path / "seen"
        with seen.open("w") as sink:
            monitor = subprocess.Popen(
                ["dbus-monitor", "--address", address, "interface='org.freedesktop.Notifications'"],
                stdout=sink, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_until(lambda: "NameAcquired" in seen.read_text())
        bin_dir = tmp_path / "bin"  # gdbus only: the path taken where notify-send is absent
        bin_dir.mkdir()
        (bin_dir / "gdbus").symlink_to(shutil.which("gdbus") or "")
        monkeypatch.setenv("PATH", str(bin_dir))
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        error = notify_desktop(event("deploy", "gave_up"))
        wait_until(lambda: "member=Notify" in seen.read_text())
        text = seen.read_text()
        assert "tmux-guardian: gave up on 'deploy'" in text
        assert 'string "server s, crashed"' in text
        assert error is not None and "ServiceUnknown" in error
    finally:
        for proc in (monitor, daemon):
            if proc is not None:
                proc.kill()
                proc.wait()


# -- the tmux message: `[alerts] tmux`, and the older `notifications` ----------------------


@pytest.mark.parametrize(
    ("settings", "told"),
    [
        (Settings(), True),
        (Settings(notifications=False), False),
        (Settings(alerts=Alerts(tmux=False)), False),
        (Settings(notifications=False, alerts=Alerts(tmux=True)), True),
    ],
)
def test_tmux_messages_follow_alerts_tmux_then_notifications(
    tmp_path: Path, settings: Settings, told: bool
) -> None:
    target = ServerTarget.at_path(str(tmp_path / "s"))
    guard = ServerGuard(Engine(settings, tmp_path / "state", (target,)), target)
    fake = RecordingAdapter("101 /dev/pts/3\n")
    guard.adapter = fake  # type: ignore[assignment]
    guard._notify("recovered 'w' (crashed)")
    assert bool(fake.sent) is told


# -- config ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"alerts": {"command": "notify me"}}, "key 'alerts.command'"),
        ({"alerts": {"command": [""]}}, "key 'alerts.command': Value error, the first item"),
        ({"alerts": {"desktop": "maybe"}}, "key 'alerts.desktop'"),
        ({"alerts": {"per_minute": 0}}, "key 'alerts.per_minute'"),
        ({"alerts": {"comand": ["x"]}}, "unknown key 'alerts.comand'"),
        ({"metrics_file": "relative.prom"}, "key 'metrics_file': Value error, give an absolute"),
        ({"metrics_listen": "127.0.0.1:70000"}, "key 'metrics_listen'"),
        ({"metrics_listen": "::1:9101"}, "an IPv6 address goes in brackets"),
        ({"min_free_mb": -1}, "key 'min_free_mb'"),
        ({"min_free_fraction": 1.5}, "key 'min_free_fraction'"),
    ],
)
def test_alert_and_metrics_mistakes_name_the_key(data: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings_from_mapping(data, source="c.toml")
    assert expected in str(info.value)


def test_cli_exits_2_on_a_bad_alerts_table(guardian, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "c.toml"
    path.write_text('[alerts]\ncommand = "curl -d @- https://pager"\n')
    result = guardian("--config", str(path), "status")
    assert result.code == 2 and "alerts.command" in result.err and "Traceback" not in result.err


def test_listen_defaults_to_loopback() -> None:
    assert settings_from_mapping({"metrics_listen": "9101"}, source="c").metrics_listen == (
        "127.0.0.1:9101"
    )
    assert settings_from_mapping({"metrics_listen": "[::1]:9101"}, source="c").metrics_listen == (
        "[::1]:9101"
    )


# -- a real recovery, end to end ---------------------------------------------------------------


@pytest.mark.tmux
async def test_real_crash_alerts_carry_no_secret(
    tmux_server: PrivateServer, state_dir: Path, tmp_path: Path
) -> None:
    """A server killed -9 whose panes hold secrets in a program's argv, in the session's
    environment and in pane contents: the alert command gets `crashed` then `recovered`
    (and, after a pane program is killed, `corrupted` then `recovered`), each exactly the
    eight keys, and no secret in any of them nor in the metrics file."""
    t = tmux_server
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    log = secrets_dir / "api_token=ARGVSECRET.log"
    log.write_text("x\n")
    out, metrics = tmp_path / "alerts.jsonl", tmp_path / "m" / "tg.prom"
    metrics.parent.mkdir()
    t.cmd("new-session", "-d", "-s", "ops", "-e", "API_TOKEN=ENVSECRET", "-x", "100", "-y", "30")
    t.cmd("send-keys", "-t", "ops", "echo CONTENT''SECRET", "Enter")
    t.cmd("split-window", "-t", "ops", "tail", "-f", str(log))  # allowlisted: respawned
    t.cmd("split-window", "-t", "ops", "sh", "-c", "sleep 1000", "sh", "--token=HELDSECRET")
    settings = FAST.model_copy(
        update={"capture_contents": True, "metrics_file": metrics,
                "alerts": Alerts(command=recorder(out))}
    )  # fmt: skip
    engine = Engine(settings, state_dir, (ServerTarget.at_path(str(t.socket)),))
    monitor = Monitor(engine, GuardOptions())
    try:
        await poll_until_healthy(monitor)
        wait_until(lambda: "CONTENTSECRET" in t.cmd("capture-pane", "-p", "-t", "ops.0"))
        await monitor.poll_once()  # contents captured into a checkpoint
        t.crash()
        await poll_until_healthy(monitor)
        tail_pid = int(t.lines("#{pane_index} #{pane_pid}")[1].split()[1])
        os.kill(tail_pid, signal.SIGSEGV)
        await poll_until_healthy(monitor, after=lambda: t.lines("#{pane_dead}")[1] == "0")
        assert monitor.outputs.alerts.flush(15)
    finally:
        monitor.release()
    got = events_in(out)
    print("alert JSON from a real recovery:", *map(json.dumps, got), sep="\n")  # for the record
    assert [(e["event"], e["session"]) for e in got][:2] == [
        ("crashed", "ops"),
        ("recovered", "ops"),
    ]
    assert ("corrupted", "ops") in [(e["event"], e["session"]) for e in got[2:]]
    recovered = [e for e in got if e["event"] == "recovered"]
    assert recovered[0]["health"] == "crashed" and recovered[0]["action"] == (
        "wait for old server to exit, rebuild from checkpoint"
    )
    assert any(e["health"] == "corrupted" and "respawn pane" in str(e["action"]) for e in recovered)
    for e in got:
        assert set(e) == KEYS
        assert e["server"] == str(t.socket)
        datetime.fromisoformat(str(e["at"]))
    assert all(isinstance(e["duration_s"], float) and e["duration_s"] > 0 for e in recovered)
    everything = out.read_text() + metrics.read_text()
    for secret in ("ARGVSECRET", "ENVSECRET", "CONTENTSECRET", "HELDSECRET"):
        assert secret not in everything
    # ...while the checkpoints did hold them (so the test had something to leak)
    saved = "".join(p.read_text() for p in (state_dir / "checkpoints").rglob("*.json"))
    assert "ARGVSECRET" in saved and "HELDSECRET" in saved


async def poll_until_healthy(
    monitor: Monitor, after: Callable[[], bool] = lambda: True, timeout: float = 10
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        verdicts = await monitor.poll_once()
        if verdicts and all(v.health is Health.HEALTHY for v in verdicts) and after():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not healthy: {verdicts}")
        await asyncio.sleep(0.1)


@pytest.mark.tmux
async def test_a_crash_loop_sends_gave_up_once_and_metrics_show_it(
    tmux_server: PrivateServer, state_dir: Path, tmp_path: Path
) -> None:
    """The breaker's give-up (3 recoveries in its window) reaches the alert command once,
    sticky polls after it send nothing more, and the textfile counts the session given up."""
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "flaky", "-x", "80", "-y", "24")
    t.cmd("split-window", "-t", "flaky", "tail -f /dev/null")
    out, metrics = tmp_path / "alerts.jsonl", tmp_path / "tg.prom"
    settings = FAST.model_copy(
        update={"metrics_file": metrics, "alerts": Alerts(command=recorder(out), per_minute=100)}
    )
    monitor = Monitor(Engine(settings, state_dir, (ServerTarget.at_path(str(t.socket)),)))
    crash_pane = t.lines("#{pane_id}")[1]
    try:
        await poll_until_healthy(monitor)
        deadline = time.monotonic() + 20
        while not any(e["event"] == "gave_up" for e in events_in(out)):
            for line in t.lines("#{pane_id} #{pane_dead} #{pane_pid}"):
                pane, dead, pid = line.split()
                if pane == crash_pane and dead == "0":
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), signal.SIGSEGV)
            await monitor.poll_once()
            monitor.outputs.alerts.flush(5)
            assert time.monotonic() < deadline, events_in(out)
            await asyncio.sleep(0.1)
        for _ in range(3):
            await monitor.poll_once()  # given up is sticky: nothing more to tell
        assert monitor.outputs.alerts.flush(10)
    finally:
        monitor.release()
    got = events_in(out)
    gave_up = [e for e in got if e["event"] == "gave_up"]
    assert len(gave_up) == 1 and got[-1] == gave_up[0]
    assert gave_up[0]["outcome"] == "given up after 3 recoveries in 60 s"
    assert gave_up[0]["health"] == "corrupted" and gave_up[0]["session"] == "flaky"
    assert [e["event"] for e in got].count("recovered") == 3
    assert f'tmux_guardian_sessions_given_up{{server="{t.socket}"}} 1.0' in metrics.read_text()


def test_the_readmes_config_examples_load() -> None:
    """A key placed after `[alerts]` belongs to that table: the examples must load as shown."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", readme, flags=re.DOTALL)
    assert len(blocks) >= 2
    for block in blocks:
        settings_from_mapping(tomllib.loads(block), source="README.md")
    alerts = settings_from_mapping(tomllib.loads(blocks[0]), source="README.md")
    assert alerts.metrics_file is not None and alerts.alerts.command
