"""TmuxAdapter: the only code that runs tmux. Every call is bounded by a timeout and fails
with a typed error; a whole server is read in one `list-panes -a` round trip."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from guardian.errors import (
    ServerAbsentError,
    ServerNotAnsweringError,
    ServerNotRunningError,
    TmuxCommandError,
    TmuxError,
    TmuxMissingError,
)
from guardian.own_environment import for_children
from guardian.tmux.control import ControlClient, ControlClientError, Notice
from guardian.tmux.control_policy import OWN_SESSION, control_session, split_own_session
from guardian.tmux.names import command_list
from guardian.tmux.reading import (
    READ_COMMANDS,
    EarlyProbes,
    PaneMemo,
    TornReadError,
    build_server_state,
    parse_pane_records,
    probe_early,
)
from guardian.tmux.targets import ServerTarget
from recovery.models import ServerState

CONTROL_RETRY = 1.0
"""After the control client ended or could not attach, how long polls read by hand; it
doubles with each attempt that fails, up to CONTROL_RETRY_MAX."""
CONTROL_RETRY_MAX = 60.0


def socket_identity(path: str) -> tuple[int, int] | None:
    """The socket file as the file system knows it (None: there is none)."""
    try:
        found = Path(path).stat()
    except OSError:
        return None
    return (found.st_dev, found.st_ino)


class TmuxAdapter:
    """Talks to one tmux server, named by its socket path."""

    def __init__(
        self, target: ServerTarget, *, timeout: float = 2.0, binary: str | None = None
    ) -> None:
        self.target = target
        self.timeout = timeout
        self.binary = binary or os.environ.get("TMUX_GUARDIAN_TMUX") or "tmux"
        self._on_notice: Notice | None = None
        self._control: ControlClient | None = None
        self._control_retry_at, self._control_wait = 0.0, CONTROL_RETRY
        self._control_socket: tuple[int, int] | None = None
        self._panes: PaneMemo = {}
        self._pane_pids: list[int] = []

    # -- running -------------------------------------------------------------------------

    def run(self, args: Sequence[str], *, timeout: float | None = None) -> str:
        """Run one tmux invocation; return stdout or raise a typed TmuxError."""
        argv = [self.binary, "-S", self.target.socket_path, *args]
        env = for_children()
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                timeout=timeout if timeout is not None else self.timeout,
                env=env,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except FileNotFoundError:
            raise TmuxMissingError(
                f"tmux is not installed: no '{self.binary}' on PATH "
                "(install it with your package manager, e.g. apt-get install tmux)"
            ) from None
        except PermissionError:
            raise TmuxMissingError(f"cannot run '{self.binary}': permission denied") from None
        except subprocess.TimeoutExpired:
            raise ServerNotAnsweringError(
                f"tmux server at {self.target.socket_path} did not answer within "
                f"{timeout if timeout is not None else self.timeout:g} s"
            ) from None
        stdout = done.stdout.decode("utf-8", errors="surrogateescape")
        if done.returncode != 0:
            raise self._error(done.stderr.decode("utf-8", errors="replace").strip(), stdout)
        return stdout

    def run_commands(
        self, commands: Iterable[Sequence[str]], *, timeout: float | None = None
    ) -> str:
        """Run several tmux commands in ONE invocation (tmux stops at the first that fails)."""
        return self.run(command_list(commands), timeout=timeout)

    def _error(self, stderr: str, stdout: str) -> TmuxError:
        path = self.target.socket_path
        first = stderr.splitlines()[0] if stderr else "tmux failed without a message"
        if first.startswith("no server running on"):
            return ServerNotRunningError(f"no tmux server running on {path}")
        if first.startswith("error connecting to") and "No such file" in first:
            return ServerAbsentError(f"no tmux server at {path} (no socket file)")
        if first.startswith("error connecting to"):
            return ServerNotRunningError(f"cannot connect to tmux server at {path}: {first}")
        if first.startswith("server exited unexpectedly"):
            return ServerNotRunningError(f"tmux server at {path} exited unexpectedly")
        return TmuxCommandError(first, stdout=stdout)

    # -- the persistent client ------------------------------------------------------------

    def keep_control_client(self, on_notice: Notice) -> None:
        """Read through a persistent read-only control client from now on (a long-lived
        guard: the watcher, the UI); `on_notice` hears tmux's notifications and its end."""
        self._on_notice = on_notice

    def _control_client(self) -> ControlClient | None:
        if self._on_notice is None:
            return None
        # (a socket deleted or replaced since: this client talks to what no other can reach)
        same = self._control_socket == socket_identity(self.target.socket_path)
        if self._control is not None and self._control.alive and same:
            return self._control
        self.close_control_client()
        now = time.monotonic()
        if now < self._control_retry_at:
            return None
        # (refused or failed again: later each time; a tmux before 3.2 never attaches)
        self._control_retry_at, self._control_wait = (
            now + self._control_wait,
            min(CONTROL_RETRY_MAX, self._control_wait * 2),
        )
        try:
            session = control_session(self)
            if session is None:
                return None
            self._control_socket = socket_identity(self.target.socket_path)
            self._control = ControlClient.attach(
                self.binary,
                self.target.socket_path,
                session,
                for_children(),
                self._on_notice,
                self.timeout,
            )
        except TmuxError:
            return None
        self._control_wait = CONTROL_RETRY
        return self._control

    def close_control_client(self) -> None:
        control, self._control = self._control, None
        if control is not None:
            control.close()

    @property
    def control(self) -> ControlClient | None:
        """The control client while it lives (never starts one)."""
        return self._control if self._control is not None and self._control.alive else None

    @property
    def control_client_pid(self) -> int | None:
        return self.control.process.pid if self.control is not None else None

    # -- reading -------------------------------------------------------------------------

    def _read_output(self, probe: bool) -> tuple[str, str | None, EarlyProbes]:
        """tmux's answer to the read commands; the session our own control client is
        attached to (it counts as attached: never as a person); the probes made while
        tmux answered."""
        control = self._control_client()
        if control is not None:
            try:
                sentinel = control.send([*READ_COMMANDS, OWN_SESSION])
                early = probe_early(self._pane_pids) if probe else {}
                output = control.collect(sentinel, self.timeout)
            except ControlClientError:
                self.close_control_client()  # ended (a server's end, a detach): one by hand
            else:
                return (*split_own_session(output), early)
        return self.run_commands(READ_COMMANDS), None, {}

    def read_server(self, *, probe_processes: bool = True) -> ServerState:
        """The whole server in one round trip, plus per-pane process facts from /proc."""
        own: str | None = None
        early: EarlyProbes = {}
        for attempt in range(3):
            try:
                output, own, early = self._read_output(probe_processes)
            except TmuxCommandError as exc:
                if str(exc) != "no current target":
                    raise
                output = ""  # a live server with no sessions (exit-empty off)
            try:
                rows, unreadable = parse_pane_records(output)
                break
            except TornReadError:
                if attempt == 2:
                    raise
        state = build_server_state(
            self.target.socket_path,
            rows,
            probe_processes=probe_processes,
            read_at=time.time(),
            own_session=own,
            memo=self._panes if probe_processes else None,
            early=early,
        )
        self._pane_pids = list(  # (once each: a session group lists its panes per member)
            {int(r.fields["pane_pid"]): None for r in rows if r.fields["pane_pid"].isdigit()}
        )
        if unreadable:
            state = state.model_copy(update={"unreadable": tuple(unreadable)})
        return state

    def global_path(self) -> str | None:
        """PATH in the server's global environment: what a new pane's shell starts with."""
        try:
            line = self.run(["show-environment", "-g", "PATH"]).strip()
        except TmuxError:
            return None
        return line.split("=", 1)[1] if line.startswith("PATH=") else None

    def capture_contents(self, pane_ids: Sequence[str], lines: int) -> dict[str, str]:
        """Visible text plus up to `lines` of scrollback of each pane, with its colours
        (`-e`: escape sequences kept; only SGR ones are ever replayed), in one invocation."""
        if not pane_ids:
            return {}
        marker = f"\x1e{os.urandom(8).hex()}"
        commands: list[list[str]] = []
        for pane_id in pane_ids:
            commands.append(["capture-pane", "-p", "-e", "-J", "-S", f"-{lines}", "-t", pane_id])
            commands.append(["display-message", "-p", "-t", pane_id, f"{marker}{pane_id}"])
        output = self.run_commands(commands, timeout=max(self.timeout, 5.0))
        captured: dict[str, str] = {}
        rest = output
        for pane_id in pane_ids:
            end = f"{marker}{pane_id}\n"
            text, _, rest = rest.partition(end)
            captured[pane_id] = text.rstrip("\n")
        return captured
