"""One poll of one server: a bounded read plus the /proc facts the classifier needs."""

from __future__ import annotations

import os
import shutil
import time

from guardian.errors import (
    ServerAbsentError,
    ServerNotAnsweringError,
    ServerNotRunningError,
    TmuxError,
    TmuxMissingError,
)
from guardian.tmux.adapter import TmuxAdapter
from guardian.tmux.procfs import cpu_seconds
from guardian.tmux.servers import foreign_binary, process_state, server_listeners
from recovery.models import ServerState
from recovery.observations import ClosedEvent, ServerProbe


class Observer:
    """Reads one server per poll; /proc scans only when the answer calls for them."""

    def __init__(self, adapter: TmuxAdapter) -> None:
        self.adapter = adapter
        self.default_binary = adapter.binary
        self.installed = shutil.which(adapter.binary)
        self._binary_checked: dict[int, str | None] = {}

    def _read(self) -> ServerState:
        """Read through the adapter's binary; if that is a server's own `/proc/PID/exe` and
        the server is gone, fall back to the installed tmux."""
        try:
            return self.adapter.read_server()
        except TmuxMissingError:
            if self.adapter.binary == self.default_binary:
                raise
            self.adapter.binary = self.default_binary
            return self.adapter.read_server()

    def _through_server_binary(self, listeners: tuple[int, ...]) -> tuple[ServerState, str] | None:
        """After a tmux upgrade the installed client may not speak to the old server: talk
        to it through the binary it runs (DESIGN.md, "Strategies")."""
        for pid in listeners:
            alternative = foreign_binary(pid, self.installed)
            if alternative is None:
                continue
            self.adapter.binary = alternative
            try:
                return self.adapter.read_server(), alternative
            except TmuxError:
                self.adapter.binary = self.default_binary
        return None

    def observe(self, remembered_pid: int | None, closed: list[ClosedEvent]) -> ServerProbe:
        path = self.adapter.target.socket_path
        if remembered_pid is not None and process_state(remembered_pid) == "T":
            # A stopped server never answers: say so now instead of after the timeout.
            return ServerProbe(
                socket_path=path,
                error="not_answering",
                message=f"server pid {remembered_pid} is stopped",
                socket_exists=os.path.exists(path),
                listeners=(remembered_pid,),
                process_state={remembered_pid: "T"},
                closed=tuple(closed),
                at=time.time(),
            )
        state, error, message = self._read_or_why()
        pid = state.server.pid if state is not None else None
        if state is not None and (remembered_pid is None or pid == remembered_pid):
            listeners: tuple[int, ...] = (pid,) if pid else ()
        else:  # no answer, or another server answers: who listens on this path?
            listeners = server_listeners(path)
            if state is None and error in ("not_running", "failed") and listeners:
                through = self._through_server_binary(listeners)
                if through is not None:
                    state, error, message = through[0], None, ""
                    pid = state.server.pid
        candidates = {*listeners, *([remembered_pid] if remembered_pid is not None else [])}
        silent = error == "not_answering"  # then its CPU time tells stuck from slow
        return ServerProbe(
            socket_path=path,
            state=state,
            error=error,
            message=message,
            socket_exists=os.path.exists(path),
            listeners=listeners,
            process_state=_process_states(candidates),
            process_cpu=_cpu_times(candidates) if silent else {},
            foreign_binary=self._foreign_binary(pid),
            closed=tuple(closed),
            at=time.time(),
        )

    def _read_or_why(self) -> tuple[ServerState | None, str | None, str]:
        """The server's state, or why there is none (the classifier's error kinds)."""
        try:
            return self._read(), None, ""
        except TmuxMissingError:
            raise
        except ServerNotAnsweringError as exc:
            return None, "not_answering", str(exc)
        except ServerAbsentError as exc:
            return None, "absent", str(exc)
        except ServerNotRunningError as exc:
            return None, "not_running", str(exc)
        except TmuxError as exc:
            return None, "failed", str(exc)

    def _foreign_binary(self, pid: int | None) -> str | None:
        """Checked once per server pid: a server's binary does not change while it runs."""
        if pid is None:
            return None
        if pid not in self._binary_checked:
            self._binary_checked[pid] = foreign_binary(pid, self.installed)
        return self._binary_checked[pid]


def _cpu_times(pids: set[int]) -> dict[int, float]:
    found = {pid: cpu_seconds(pid) for pid in pids}
    return {pid: seconds for pid, seconds in found.items() if seconds is not None}


def _process_states(pids: set[int]) -> dict[int, str]:
    states = {}
    for pid in pids:
        letter = process_state(pid)
        if letter is not None:
            states[pid] = letter
    return states
