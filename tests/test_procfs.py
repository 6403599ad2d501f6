"""Reading /proc for every pane at every poll, mostly once per process: what the cache of
argv and executable must never get wrong (real processes, no tmux)."""

from __future__ import annotations

import subprocess

from guardian.tmux.procfs import program_state, read_stat
from tests.conftest import wait_until


def test_an_exec_in_the_same_process_is_seen_at_once() -> None:
    """`exec` keeps the pid and start time: the kernel's name tells the new program."""
    proc = subprocess.Popen(["sh", "-c", "read _; exec sleep 30"], stdin=subprocess.PIPE)
    try:
        wait_until(lambda: program_state(proc.pid) is not None)
        before = program_state(proc.pid)
        assert before is not None and before.argv[0] == "sh"
        assert program_state(proc.pid) is before  # the same process: read once
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
        wait_until(lambda: (program_state(proc.pid) or before).argv == ("sleep", "30"))
        after = program_state(proc.pid)
        assert after is not None and after.started_at == before.started_at
    finally:
        proc.kill()
        proc.wait()


def test_a_zombie_is_never_the_process_it_was() -> None:
    proc = subprocess.Popen(["sleep", "0.2"])
    try:
        wait_until(lambda: program_state(proc.pid) is not None)
        wait_until(lambda: (read_stat(proc.pid) or read_stat(1)).state == "Z", timeout=5)  # type: ignore[union-attr]
        assert program_state(proc.pid) is None  # not reaped yet: a zombie has no argv
    finally:
        proc.wait()
