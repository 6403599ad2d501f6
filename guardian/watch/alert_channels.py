"""Where an alert goes beyond tmux: the person's command (argv, no shell, one JSON object
on stdin) and a desktop notification over the session bus. Each bounded in time; each
returns None when it worked, else what went wrong in one line."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Sequence
from typing import IO

from recovery.alerts import AlertEvent
from recovery.may_run.text import visible

STDERR_KEPT = 2048
"""Bytes of a command's stderr kept for the log; the rest is read and dropped."""


def run_bounded(argv: Sequence[str], stdin: bytes, timeout: float) -> str | None:
    """Run `argv` in its own process group, `stdin` on its stdin, stdout discarded; its
    whole group killed at `timeout`. None on exit 0, else why not."""
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
            close_fds=True,
        )
    except OSError as exc:
        return f"cannot start {argv[0]!r}: {exc.strerror or exc}"
    assert proc.stdin is not None and proc.stderr is not None
    head = bytearray()
    reader = threading.Thread(target=_keep_head, args=(proc.stderr, head), daemon=True)
    reader.start()
    try:
        with contextlib.suppress(BrokenPipeError, OSError):
            proc.stdin.write(stdin)
        with contextlib.suppress(BrokenPipeError, OSError):
            proc.stdin.close()
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return f"killed after {timeout:g} s"
    finally:
        reader.join(1.0)
    if code == 0:
        return None
    said = visible(head.decode("utf-8", "replace").strip().splitlines()[0][:200]) if head else ""
    why = f"exit status {code}" if code > 0 else f"killed by signal {-code}"
    return f"{why}: {said}" if said else why


def _keep_head(stream: IO[bytes], head: bytearray) -> None:
    with contextlib.suppress(OSError, ValueError):
        while chunk := stream.read(4096):
            if len(head) < STDERR_KEPT:
                head += chunk[: STDERR_KEPT - len(head)]


def event_text(event: AlertEvent) -> tuple[str, str]:
    """A notification's summary and body, from the payload's safe fields only."""
    session = visible(event.session)
    match event.event:
        case "recovered":
            summary = f"recovered '{session}'"
        case "failed":
            summary = f"could not recover '{session}'"
        case "gave_up":
            summary = f"gave up on '{session}'"
        case _:
            summary = f"'{session}' is {event.event}"
    details = [f"server {visible(event.server)}", event.health]
    if event.outcome:
        details.append(event.outcome)
    if event.duration_s is not None:
        details.append(f"{event.duration_s:.2f} s")
    return f"tmux-guardian: {summary}", ", ".join(details)


def notify_desktop(event: AlertEvent, timeout: float = 5.0) -> str | None:
    """A freedesktop notification, through `notify-send` or `gdbus`; skipped (None) when
    there is no session bus or neither program."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return None
    summary, body = event_text(event)
    urgent = event.event in ("failed", "gave_up", "crashed")
    if notify_send := shutil.which("notify-send"):
        urgency = "critical" if urgent else "normal"
        argv = [notify_send, "--app-name=tmux-guardian", f"--urgency={urgency}", summary, body]
    elif gdbus := shutil.which("gdbus"):
        hints = "{'urgency': <byte 2>}" if urgent else "@a{sv} {}"
        argv = [
            gdbus, "call", "--session", "--dest", "org.freedesktop.Notifications",
            "--object-path", "/org/freedesktop/Notifications",
            "--method", "org.freedesktop.Notifications.Notify",
            _gvariant("tmux-guardian"), "uint32 0", _gvariant(""), _gvariant(summary),
            _gvariant(body), "@as []", hints, "int32 -1",
        ]  # fmt: skip
    else:
        return None
    return run_bounded(argv, b"", timeout)


def _gvariant(text: str) -> str:
    """A GVariant text string literal (gdbus parses each argument as one)."""
    escaped = visible(text).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"
