"""A persistent, read-only control-mode client of one server: a poll without starting a
tmux process, and word of the server's end the instant it comes (EOF).

Started as `tmux -C attach-session -f no-output,ignore-size,read-only`: it never receives
pane output (so it can never stall a pane), never changes a window's size and cannot
type. It is always read by its own thread. Only fixed read commands are ever sent on it;
everything that changes the server still runs as its own `tmux` invocation.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from guardian.errors import ServerNotAnsweringError, TmuxCommandError, TmuxError

CLIENT_FLAGS = "no-output,ignore-size,read-only"
QUIET_HOOKS = (
    "client-attached",
    "client-detached",
    "client-session-changed",
    "client-active",
    "client-resized",
)
"""A person's hook on any of these would run for our client too: then we do not attach."""

Notice = Callable[[str], None]


class ControlClientError(TmuxError):
    """The control client could not start, or ended."""


@dataclass
class _Block:
    header: bytes
    lines: list[bytes] = field(default_factory=list)
    error: bool = False


def control_line(commands: Sequence[Sequence[str]]) -> bytes:
    """Commands as one line of tmux's command language, every argument single-quoted (no
    expansion of `#`, `$` or `~` inside). Only our own fixed read commands come here."""
    parts: list[str] = []
    for command in commands:
        if parts:
            parts.append(";")
        for arg in command:
            if "'" in arg or "\n" in arg or "\r" in arg:
                raise ValueError(f"argument unfit for a control line: {arg!r}")
            parts.append(f"'{arg}'")
    return (" ".join(parts) + "\n").encode("utf-8", errors="surrogateescape")


class ControlClient:
    """One control-mode client; `request()` runs read commands and returns their output
    joined as one `tmux` invocation would print it."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], on_notice: Notice) -> None:
        self._on_notice = on_notice
        self._blocks: queue.Queue[_Block | None] = queue.Queue()
        self._lock = threading.Lock()
        self._sentinels = itertools.count(1)
        self.closed = threading.Event()
        self.process = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # a Ctrl-C meant for the watcher is not its business
        )
        self._reader = threading.Thread(target=self._read, name="tmux-control", daemon=True)
        self._reader.start()

    @classmethod
    def attach(
        cls,
        binary: str,
        socket_path: str,
        session_id: str,
        env: dict[str, str],
        on_notice: Notice,
        timeout: float,
    ) -> ControlClient:
        argv = [binary, "-S", socket_path, "-C", "attach-session", "-f", CLIENT_FLAGS]
        client = cls([*argv, "-t", session_id], env, on_notice)
        try:
            first = client._next_block(timeout)  # the attach command's own (empty) answer
        except TmuxError:
            client.close()
            raise
        if first.error:
            client.close()
            raise ControlClientError(b"\n".join(first.lines).decode(errors="replace"))
        return client

    @property
    def alive(self) -> bool:
        return not self.closed.is_set()

    def request(self, commands: Sequence[Sequence[str]], timeout: float) -> str:
        """Run `commands` (stopping at the first error, as a tmux command list does)."""
        return self.collect(self.send(commands), timeout)

    def send(self, commands: Sequence[Sequence[str]]) -> str:
        """Ask, without waiting: the caller does other work while tmux answers, then
        `collect()`s (always: the client is held until then)."""
        sentinel = f"tmux-guardian-control-{os.getpid()}-{next(self._sentinels)}"
        line = control_line(commands) + control_line([["display-message", "-p", sentinel]])
        self._lock.acquire()
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(line)
            self.process.stdin.flush()
        except (OSError, ValueError):
            self._lock.release()
            self.close()
            raise ControlClientError("the control client has ended") from None
        return sentinel

    def collect(self, sentinel: str, timeout: float) -> str:
        """The answer to what `send()` asked (which returned `sentinel`)."""
        try:
            output, failed = self._blocks_until(sentinel.encode(), timeout)
        finally:
            self._lock.release()
        text = b"".join(output).decode("utf-8", errors="surrogateescape")
        if failed is not None:
            message = b"\n".join(failed.lines).decode("utf-8", errors="replace")
            raise TmuxCommandError(message.splitlines()[0] if message else "tmux failed")
        return text

    def _blocks_until(self, sentinel: bytes, timeout: float) -> tuple[list[bytes], _Block | None]:
        output: list[bytes] = []
        failed: _Block | None = None
        while True:
            try:
                block = self._next_block(timeout)
            except ServerNotAnsweringError:
                self.close()  # an answer may still come later: never read it as another's
                raise
            if block.lines == [sentinel] and not block.error:
                return output, failed
            if block.error and failed is None:
                failed = block
            if failed is None:
                output.extend(line + b"\n" for line in block.lines)

    def _next_block(self, timeout: float) -> _Block:
        try:
            block = self._blocks.get(timeout=timeout)
        except queue.Empty:
            raise ServerNotAnsweringError(
                f"tmux server did not answer its control client within {timeout:g} s"
            ) from None
        if block is None:
            self._blocks.put(None)  # every later request hears it too
            raise ControlClientError("the control client has ended")
        return block

    def _read(self) -> None:
        """Read every line tmux sends, always: a client that is not read stalls tmux."""
        stdout = self.process.stdout
        assert stdout is not None
        block: _Block | None = None
        end = b""
        try:
            for raw in stdout:
                line = raw.rstrip(b"\n")
                if block is not None:
                    if line == b"%end" + end or line == b"%error" + end:
                        block.error = line.startswith(b"%error")
                        self._blocks.put(block)
                        block = None
                    else:
                        block.lines.append(line)
                elif line.startswith(b"%begin "):
                    end = line[len(b"%begin") :]
                    block = _Block(line)
                elif line.startswith(b"%"):
                    self._notice(line.split(b" ", 1)[0].decode(errors="replace"))
        except (OSError, ValueError):
            pass
        with contextlib.suppress(OSError):
            stdout.close()
        self.closed.set()
        self._blocks.put(None)
        self._notice("%exit")

    def _notice(self, name: str) -> None:
        with contextlib.suppress(Exception):  # a listener's failure never stops the reading
            self._on_notice(name)

    def close(self) -> None:
        """End the client (its own process only: never the server)."""
        self.closed.set()
        with contextlib.suppress(OSError, ValueError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.process.kill()  # a stalled control client must go (FIELD_NOTES)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=1)
        # (its stdout is left to the reader thread, which ends at the EOF this brings)
