"""Slowness is never a verdict (issue 14): both cores pinned by busy loops while a real
watcher guards; nothing is called failed, and a real SIGSTOP of the server is still
found and thawed. And the pressure reading and what the watcher does with it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from conftest import PrivateServer, needs_tmux, wait_until

from guardian.watch import monitor as monitor_module
from guardian.watch.pressure import CpuPressure, read_pressure
from recovery.journal import Journal


def test_pressure_is_read_from_psi_and_said_with_its_figure(tmp_path: Path) -> None:
    psi = tmp_path / "cpu"
    psi.write_text("some avg10=55.10 avg60=20.00 avg300=5.00 total=1\nfull avg10=0.00\n")
    assert read_pressure(str(psi)) == CpuPressure(True, "CPU pressure 55% (PSI some avg10)")
    psi.write_text("some avg10=3.00 avg60=2.00 avg300=1.00 total=1\n")
    assert read_pressure(str(psi)).high is False
    assert "load" in read_pressure(str(tmp_path / "none")).why  # no PSI: the load average


def _busy_loops(count: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(count)]


@needs_tmux
@pytest.mark.tmux
def test_both_cores_pinned_no_false_verdict_and_a_sigstop_still_thawed(
    tmux_server: PrivateServer, tmp_path: Path
) -> None:
    t = tmux_server
    for name in ("edit", "logs", "build"):
        t.cmd("new-session", "-d", "-s", name, "-x", "120", "-y", "40")
        t.cmd("split-window", "-t", name, "tail -f /dev/null")
    state = tmp_path / "state"
    argv = [sys.executable, "-m", "guardian.cli", "-S", str(t.socket), "--state-dir", str(state)]
    watcher = subprocess.Popen(
        [*argv, "watch", "--interval", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    loops: list[subprocess.Popen[bytes]] = []
    server = t.pid()
    try:
        wait_until(lambda: t.cmd("show-options", "-gwv", "remain-on-exit").strip() == "failed")
        loops = _busy_loops(os.cpu_count() or 2)
        time.sleep(8)  # ordinary use on a machine with no CPU to spare
        os.kill(server, signal.SIGSTOP)
        wait_until(lambda: psutil.Process(server).status() != psutil.STATUS_STOPPED, timeout=20)
        time.sleep(2)
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
        os.kill(server, signal.SIGCONT)  # never leave a stopped server behind
        watcher.send_signal(signal.SIGTERM)
        _, err = watcher.communicate(timeout=20)
    verdicts = [e for e in Journal(state).read() if e.kind == "verdict"]
    unhealthy = [(e.session, e.health) for e in verdicts if e.health != "healthy"]
    assert unhealthy and {health for _, health in unhealthy} == {"frozen"}, unhealthy
    assert all("stopped" in " ".join(e.evidence) for e in verdicts if e.health == "frozen")
    assert {s for s, _ in unhealthy} == {"edit", "logs", "build"}
    assert t.cmd("list-sessions", "-F", "#{session_name}").split() == ["build", "edit", "logs"]
    assert b"Traceback" not in err


async def test_under_pressure_the_watcher_polls_less_often_and_says_so(
    tmux_server: PrivateServer, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(The pressure itself is given: a real machine's PSI cannot be set by a test.)"""
    from config.settings import Settings
    from guardian.operations.engine import Engine
    from guardian.tmux.targets import ServerTarget

    t = tmux_server
    t.cmd("new-session", "-d", "-s", "w")
    target = ServerTarget.at_path(str(t.socket))
    monitor = monitor_module.Monitor(Engine(Settings(), state_dir, (target,)), interval=2)
    high = CpuPressure(True, "CPU pressure 80% (PSI some avg10)")
    monkeypatch.setattr(monitor_module, "read_pressure", lambda: high)
    await monitor.poll_once()
    assert monitor.current_interval == 6
    assert monitor.guards[0].under_pressure is True
    assert monitor.guards[0].program_probes.reprobe_after == 30.0  # costly probes less often
    live = json.loads(next((state_dir / "live").rglob("*.json")).read_text())
    assert live["pressure"] == "CPU pressure 80% (PSI some avg10)" and live["interval"] == 6
    monitor.release()
