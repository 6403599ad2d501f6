"""Checkpoints written by earlier versions of tmux-guardian, kept as they were written (by
the code of main on the day in their name, snapshotting a real server), restore today.

- v1: schema 1, from before signing: layouts and directories come back; its programs come
  back held (it recorded no executable, so nothing proves what ran).
- v2: schema 2, signed with the key beside it: the person's own, its programs run again.
- v3: schema 3 (how each program comes back), signed: read by schema 4 (session groups,
  environments, options), its programs run again.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import PrivateServer, wait_until
from tests.test_real_crash import foreground_job

pytestmark = pytest.mark.tmux

FIXTURES = Path(__file__).parent / "fixtures" / "checkpoints"


def install(name: str, state_dir: Path, key_dir: Path) -> str:
    """Put a kept checkpoint (and its key, if signed) where this version keeps them."""
    data = json.loads((FIXTURES / f"{name}.json").read_bytes())
    checkpoint_id = data["payload"]["id"]
    session_dir = state_dir / "checkpoints" / "s-kept" / f"s-{data['payload']['session']['name']}"
    session_dir.mkdir(parents=True, mode=0o700)
    for directory in (state_dir, state_dir / "checkpoints", session_dir.parent):
        directory.chmod(0o700)
    target = session_dir / f"{checkpoint_id}.json"
    shutil.copyfile(FIXTURES / f"{name}.json", target)
    target.chmod(0o600)
    key = FIXTURES / f"{name}.key"
    if key.exists():
        key_dir.mkdir(mode=0o700, exist_ok=True)
        shutil.copyfile(key, key_dir / "signing.key")
        (key_dir / "signing.key").chmod(0o600)
    return checkpoint_id


@pytest.mark.parametrize(
    ("name", "session", "programs_run"),
    [
        ("v1-main-2026-11-30", "legacy work", False),
        ("v2-main-2026-11-30", "signed", True),
        ("v3-main-2026-11-30", "schema three", True),
    ],
)
def test_a_checkpoint_of_an_earlier_version_restores(  # type: ignore[no-untyped-def]
    guardian,
    tmux_server: PrivateServer,
    hermetic_env: Path,
    name: str,
    session: str,
    programs_run: bool,
) -> None:
    checkpoint_id = install(name, hermetic_env / "state", hermetic_env / "key")
    t = tmux_server
    result = guardian("-S", str(t.socket), "restore", "--checkpoint", checkpoint_id)
    assert result.code == 0, result
    assert f"restored  {session}" in result.out
    windows = t.lines("#{session_name} #{window_name} #{pane_index} #{pane_current_path}")
    assert windows == [
        f"{session} edit 0 /tmp",
        f"{session} edit 1 /",
        f"{session} logs 0 /tmp",
        f"{session} logs 1 /tmp",
    ]
    expected = {
        "edit.0": [],
        "edit.1": [["less", "-S", "/etc/hostname"]],
        "logs.0": [["tail", "-f", "/etc/hostname"]],
        "logs.1": [],
    }
    if programs_run:
        wait_until(lambda: _programs(t) == expected, timeout=10)
    else:
        assert "held" in result.out or "typed, not run" in result.out
        typed = t.cmd("capture-pane", "-p", "-t", f"={session}:logs.0")
        assert "tail -f /etc/hostname" in typed
        assert _programs(t) == {key: [] for key in expected}
    again = guardian("-S", str(t.socket), "verify")
    assert again.code == 0, again


def _programs(t: PrivateServer) -> dict[str, list[list[str]]]:
    """Each pane's foreground job, from /proc (a shell at its prompt runs none)."""
    found = {}
    for line in t.lines("#{window_name}.#{pane_index}\t#{pane_pid}"):
        where, pid = line.split("\t")
        job = foreground_job(int(pid))
        found[where] = [stage for stage in job if stage[0].lstrip("-") not in ("sh", "bash")]
    return found
