"""Every failure the machine side reports, each with a message fit to show a person.

One module, imported by every part of `guardian` and by nothing it imports, so that no two
modules need each other for their errors (the CLI and its commands once did).
"""

from __future__ import annotations


class TmuxError(Exception):
    """Any failure to get an answer from tmux."""


class TmuxMissingError(TmuxError):
    """No tmux binary to run."""


class ServerAbsentError(TmuxError):
    """No socket file: the server never started here, or its socket was deleted."""


class ServerNotRunningError(TmuxError):
    """The socket file exists but nothing answers on it: the server died (crash or kill)."""


class ServerNotAnsweringError(TmuxError):
    """The server accepted the connection but did not answer in time (stopped or stuck)."""


class TmuxCommandError(TmuxError):
    """tmux answered with an error."""

    def __init__(self, message: str, *, stdout: str = "") -> None:
        super().__init__(message)
        self.stdout = stdout


class ReadError(TmuxError):
    """tmux's answer could not be parsed (a field count did not match)."""


class UsageError(Exception):
    """The request itself is wrong: exit 2."""


class RestoreUsageError(UsageError):
    """A restore asked for something that cannot be (exit 2)."""


class WatcherBusyError(Exception):
    """Another watcher guards this server."""


class UiGuardsError(WatcherBusyError):
    """A UI guards this server while it is open (it can hand over to a watcher)."""


class ServiceError(Exception):
    """An action of the UI that did not happen; the message is one line for a notification."""
