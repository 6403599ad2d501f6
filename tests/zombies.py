"""A tmux server whose dead children stay zombies for a while, as they do after a real
crash: a helper process made a child subreaper (prctl PR_SET_CHILD_SUBREAPER) starts the
server, so when the server is killed its pane programs are re-parented to the helper,
which reaps each one only after it has been a zombie for HOLD seconds (init here takes
0.5-1 s; in a container whose init never reaps, forever). A restore run at once after a
kill -9 meets them, as a person's would.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

HOLD = 2.0

_HELPER = textwrap.dedent(
    """
    import ctypes, json, os, subprocess, sys, time
    PR_SET_CHILD_SUBREAPER = 36
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("prctl failed")
    hold = float(sys.argv[1])
    done = subprocess.run(sys.argv[2:], capture_output=True, text=True)  # the server stays
    answer = {"status": done.returncode, "out": done.stdout, "err": done.stderr}
    print(json.dumps(answer), flush=True)
    me, parent = os.getpid(), os.getppid()
    first_seen = {}
    orphaned_since = None
    while os.getppid() == parent:  # the test that started it is gone: stop holding
        children = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) != me:
                continue
            children += 1
            if fields[0] != "Z":
                continue
            pid = int(entry)
            seen = first_seen.setdefault(pid, time.monotonic())
            if time.monotonic() - seen >= hold:
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
                first_seen.pop(pid, None)
        # Nothing left to hold (the server and its programs are gone and reaped): done.
        if children:
            orphaned_since = None
        elif orphaned_since is None:
            orphaned_since = time.monotonic()
        elif time.monotonic() - orphaned_since > 1.0:
            break
        time.sleep(0.1)
    """
)


class ZombieHolder:
    """Starts a tmux server on `socket` under the subreaper helper; stop() ends the
    helper (its remaining zombies go to init)."""

    def __init__(self, socket: Path, *new_session_args: str, hold: float = HOLD) -> None:
        self.__init_argv__(
            ["tmux", "-S", str(socket), "-f", "/dev/null", "new-session", "-d", *new_session_args],
            hold,
        )

    @classmethod
    def running(cls, argv: list[str], hold: float = HOLD) -> ZombieHolder:
        """A holder whose helper runs `argv` (a tmux command that starts the server)."""
        holder = cls.__new__(cls)
        holder.__init_argv__(argv, hold)
        return holder

    def __init_argv__(self, argv: list[str], hold: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _HELPER, str(hold), *argv],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        answer = json.loads(self.process.stdout.readline() or '{"status": -1, "err": "no answer"}')
        if answer["status"] != 0:
            self.stop()
            raise RuntimeError(f"tmux {' '.join(argv[5:])}: {answer.get('err', '').strip()}")
        self.output: str = answer["out"]

    @property
    def pid(self) -> int:
        return self.process.pid

    def held_zombies(self) -> list[int]:
        """Zombies the helper holds right now (children it has not reaped yet)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] == "Z" and int(fields[1]) == self.pid:
                found.append(int(entry.name))
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(5)
