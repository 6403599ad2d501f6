"""Running many sessions' tmux commands in as few invocations as tmux's message size allows.

A session's commands come in pieces that each start with an explicit target, so an
invocation may end between pieces. A marker printed after each session's last piece tells
how far tmux got (tmux stops a command list at the first error); the session that failed
is handed back, and the pieces after it are sent again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from guardian.errors import TmuxCommandError
from guardian.tmux.adapter import TmuxAdapter

# The tmux client sends its whole argv in one message of at most 16 KiB ("command too long").
MAX_INVOCATION_BYTES = 12_000

Item = TypeVar("Item")
Commands = list[list[str]]


def argv_size(command: Sequence[str]) -> int:
    return sum(len(part.encode("utf-8", "surrogateescape")) + 1 for part in command) + 2


class BatchedPhase(Generic[Item]):
    """One phase of a build: every item's pieces, sent in batches under the size limit."""

    def __init__(
        self,
        adapter: TmuxAdapter,
        marker: str,
        make_pieces: Callable[[Item], list[Commands]],
        read_output: Callable[[Item, list[str]], None] | None,
        on_failure: Callable[[Item, str], None],
    ) -> None:
        self.adapter = adapter
        self.marker = marker
        self.make_pieces = make_pieces
        self.read_output = read_output
        self.on_failure = on_failure

    def run(self, items: Sequence[Item]) -> list[Item]:
        """The items whose pieces all ran; each other one was handed to `on_failure`."""
        queue = self._queue(items)
        done: list[Item] = []
        failed: set[int] = set()
        pending = list(items)  # items not yet finished, in order
        buffer = ""
        position = 0
        while position < len(queue):
            batch, position = self._next_batch(queue, position, failed)
            if not batch:
                break
            output, error = self._send([c for index in batch for c in queue[index][1]])
            buffer += output
            buffer = self._take_finished(buffer, pending, done)
            if error is not None:
                culprit = pending.pop(0)
                failed.add(id(culprit))
                self.on_failure(culprit, error)
                buffer = ""
                waiting = {id(item) for item in pending}
                later = [i for i in batch if id(queue[i][0]) in waiting]
                if later:  # tmux stopped at the culprit: these never ran, send them again
                    position = min(later)
        return done

    def _queue(self, items: Sequence[Item]) -> list[tuple[Item, Commands]]:
        queue: list[tuple[Item, Commands]] = []
        for item in items:
            pieces = self.make_pieces(item) or [[]]
            pieces[-1] = [*pieces[-1], ["display-message", "-p", self.marker]]
            queue += [(item, piece) for piece in pieces]
        return queue

    @staticmethod
    def _next_batch(
        queue: list[tuple[Item, Commands]], position: int, failed: set[int]
    ) -> tuple[list[int], int]:
        batch: list[int] = []
        size = 0
        while position < len(queue):
            item, piece = queue[position]
            if id(item) in failed:
                position += 1
                continue
            cost = sum(argv_size(command) for command in piece)
            if batch and size + cost > MAX_INVOCATION_BYTES:
                break
            batch.append(position)
            size += cost
            position += 1
        return batch, position

    def _send(self, commands: Commands) -> tuple[str, str | None]:
        try:
            # A server we are building is busy, not frozen: a longer bound than a poll's.
            timeout = max(self.adapter.timeout, 5.0) + 0.02 * len(commands)
            return self.adapter.run_commands(commands, timeout=timeout), None
        except TmuxCommandError as exc:
            return exc.stdout, str(exc)

    def _take_finished(self, buffer: str, pending: list[Item], done: list[Item]) -> str:
        while self.marker + "\n" in buffer:
            chunk, buffer = buffer.split(self.marker + "\n", 1)
            item = pending.pop(0)
            if self.read_output is not None:
                self.read_output(item, chunk.splitlines())
            done.append(item)
        return buffer
