"""Metrics for fleets: the textfile a real watcher writes passes `promtool check metrics`
and counts a real recovery; the endpoint serves on loopback, a busy port is one clear
error; the alert rules pass `promtool test rules`; the dashboard's queries are PromQL over
the metrics the watcher writes."""

from __future__ import annotations

import json
import logging
import re
import shutil
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from guardian.operations.engine import Engine
from guardian.tmux.targets import ServerTarget
from guardian.watch.guard import GuardOptions
from guardian.watch.monitor import Monitor
from recovery.health import Health
from tests.conftest import PrivateServer
from tests.test_watcher import FAST

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "contrib" / "prometheus"
DASHBOARD = ROOT / "contrib" / "grafana" / "tmux-guardian.json"
NAMES = {
    "tmux_guardian_up",
    "tmux_guardian_sessions",
    "tmux_guardian_sessions_given_up",
    "tmux_guardian_recoveries_total",
    "tmux_guardian_recovery_duration_seconds",
    "tmux_guardian_last_poll_timestamp_seconds",
    "tmux_guardian_checkpoints_total",
    "tmux_guardian_checkpoint_store_bytes",
}


def promtool() -> str:
    """Debian's promtool, on PATH or put into .venv/bin by scripts/setup.sh --promtool."""
    found = shutil.which("promtool") or str(Path(sys.executable).parent / "promtool")
    if not Path(found).is_file():
        pytest.skip("promtool is absent (scripts/setup.sh --promtool fetches it)")
    return found


def samples(path: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(path.read_text()):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def families(text: str) -> set[str]:
    """Metric names as exposed (a counter `x` is `x_total` in the text format)."""
    return set(re.findall(r"^# TYPE (\S+) ", text, flags=re.MULTILINE))


async def poll_until(monitor: Monitor, health: Health | None, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        verdicts = await monitor.poll_once()
        if verdicts and (health is None or all(v.health is health for v in verdicts)):
            return
        assert time.monotonic() < deadline, verdicts


@pytest.mark.tmux
async def test_a_real_watchers_textfile_passes_promtool_and_counts_a_recovery(
    tmux_server: PrivateServer, state_dir: Path, tmp_path: Path
) -> None:
    t = tmux_server
    t.cmd("new-session", "-d", "-s", "build", "-x", "100", "-y", "30")
    t.cmd("new-session", "-d", "-s", "notes")
    textfile = tmp_path / "textfile" / "tmux_guardian.prom"
    textfile.parent.mkdir()
    engine = Engine(
        FAST.model_copy(update={"metrics_file": textfile}),
        state_dir,
        (ServerTarget.at_path(str(t.socket)),),
    )
    monitor = Monitor(engine, GuardOptions())
    label = str(t.socket)
    try:
        await poll_until(monitor, Health.HEALTHY)
        first = textfile.read_text()
        assert stat.S_IMODE(textfile.stat().st_mode) == 0o644  # node_exporter is another user
        assert not [p for p in textfile.parent.iterdir() if p != textfile]  # no temp left
        t.crash()
        await poll_until(monitor, Health.CRASHED)
        await poll_until(monitor, Health.HEALTHY)
        before_stop = samples(textfile)
    finally:
        monitor.release()
    checked = subprocess.run(
        [promtool(), "check", "metrics"], input=first, capture_output=True, text=True
    )
    print("promtool check metrics:", checked.returncode, checked.stdout, checked.stderr)
    assert checked.returncode == 0 and not (checked.stdout + checked.stderr).strip()
    assert families(first) == NAMES
    server = (("server", label),)
    crashed_ok = (("failure", "crashed"), ("outcome", "ok"), ("server", label))
    # one recovery per session rebuilt (both in one restore)
    assert before_stop[("tmux_guardian_recoveries_total", crashed_ok)] == 2
    assert before_stop[("tmux_guardian_recovery_duration_seconds_count", ())] == 2
    assert before_stop[("tmux_guardian_sessions", (("health", "healthy"), *server))] == 2
    assert before_stop[("tmux_guardian_sessions", (("health", "crashed"), *server))] == 0
    assert before_stop[("tmux_guardian_up", ())] == 1
    assert before_stop[("tmux_guardian_checkpoints_total", ())] >= 2
    assert before_stop[("tmux_guardian_checkpoint_store_bytes", ())] > 0
    assert (
        abs(before_stop[("tmux_guardian_last_poll_timestamp_seconds", server)] - time.time()) < 30
    )
    assert samples(textfile)[("tmux_guardian_up", ())] == 0  # a stopped watcher says so
    rechecked = subprocess.run(
        [promtool(), "check", "metrics"], input=textfile.read_bytes(), capture_output=True
    )
    assert rechecked.returncode == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Said(logging.Handler):
    """What the watcher's own logger said (it does not propagate once a watcher in this
    process has set up its log: caplog on the root would hear nothing)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


async def test_endpoint_on_loopback_and_a_busy_port_is_one_clear_error(
    state_dir: Path, tmp_path: Path
) -> None:
    target = ServerTarget.at_path(str(tmp_path / "no-server"))
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    settings = FAST.model_copy(update={"metrics_listen": f"127.0.0.1:{port}"})
    heard = _Said()
    logging.getLogger("tmux_guardian").addHandler(heard)
    try:
        refused = Monitor(Engine(settings, state_dir, (target,)), GuardOptions(recover=False))
        await refused.poll_once()  # the watcher goes on guarding
        refused.release()
    finally:
        logging.getLogger("tmux_guardian").removeHandler(heard)
    busy.close()
    said = [m for m in heard.messages if "metrics_listen" in m]
    assert said == [
        f"metrics_listen 127.0.0.1:{port}: cannot listen (Address already in use); "
        "no metrics over HTTP, guarding goes on"
    ]
    port = free_port()
    settings = FAST.model_copy(update={"metrics_listen": str(port)})  # no host: loopback
    monitor = Monitor(Engine(settings, state_dir, (target,)), GuardOptions(recover=False))
    try:
        await monitor.poll_once()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
        assert "tmux_guardian_up 1.0" in text and families(text) >= NAMES
        assert monitor.outputs.metrics is not None
        address = monitor.outputs.metrics.http.server_address
        assert address[0] == "127.0.0.1"
    finally:
        monitor.release()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)


async def test_an_unwritable_textfile_is_said_once_and_guarding_goes_on(
    state_dir: Path, tmp_path: Path
) -> None:
    target = ServerTarget.at_path(str(tmp_path / "no-server"))
    missing = tmp_path / "no such dir" / "tg.prom"
    settings = FAST.model_copy(update={"metrics_file": missing})
    monitor = Monitor(Engine(settings, state_dir, (target,)), GuardOptions(recover=False))
    heard = _Said()
    logging.getLogger("tmux_guardian").addHandler(heard)
    try:
        for _ in range(3):
            await monitor.poll_once()
        monitor.release()
    finally:
        logging.getLogger("tmux_guardian").removeHandler(heard)
    assert monitor.polls == 3
    said = [m for m in heard.messages if "metrics_file" in m]
    assert len(said) == 1 and str(missing) in said[0]


def test_alert_rules_pass_promtool_check_and_their_unit_tests() -> None:
    tool = promtool()
    checked = subprocess.run(
        [tool, "check", "rules", "tmux-guardian.rules.yml"],
        cwd=RULES, capture_output=True, text=True,
    )  # fmt: skip
    print("promtool check rules:", checked.stdout, checked.stderr)
    assert checked.returncode == 0 and "SUCCESS: 5 rules found" in checked.stdout
    tested = subprocess.run(
        [tool, "test", "rules", "tmux-guardian.rules.test.yml"],
        cwd=RULES, capture_output=True, text=True,
    )  # fmt: skip
    print("promtool test rules:", tested.stdout, tested.stderr)
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout


def test_dashboard_queries_are_promql_over_the_watchers_metrics(tmp_path: Path) -> None:
    """Every query of the dashboard parses (promtool checks it as a recording rule), and
    names only metrics the watcher writes."""
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(exprs) >= 8
    used = {name for e in exprs for name in re.findall(r"tmux_guardian_\w+", e)}
    exposed = NAMES | {"tmux_guardian_recovery_duration_seconds_bucket"}
    assert used <= exposed and {"tmux_guardian_sessions", "tmux_guardian_recoveries_total"} <= used
    concrete = [e.replace("$__rate_interval", "5m").replace("$instance", ".*") for e in exprs]
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query{n}", "expr": e} for n, e in enumerate(concrete)
    ]}]}  # fmt: skip
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(json.dumps(rules))  # JSON is YAML
    checked = subprocess.run([promtool(), "check", "rules", str(path)], capture_output=True)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.tmux
def test_watch_once_from_the_config_file_writes_the_textfile(
    guardian, tmux_server: PrivateServer, hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    """The person's config.toml reaches the watcher: `watch --once` polls, writes the
    textfile, and leaves `up 0` as it stops."""
    tmux_server.cmd("new-session", "-d", "-s", "solo")
    textfile = hermetic_env / "tg.prom"
    (hermetic_env / "config.toml").write_text(f'metrics_file = "{textfile}"\n')
    result = guardian("-S", str(tmux_server.socket), "watch", "--once", "--quiet")
    assert result.code == 0, result
    found = samples(textfile)
    server = (("server", str(tmux_server.socket)),)
    assert found[("tmux_guardian_sessions", (("health", "healthy"), *server))] == 1
    assert found[("tmux_guardian_up", ())] == 0
    assert ("tmux_guardian_last_poll_timestamp_seconds", server) in found
