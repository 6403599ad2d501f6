"""When the watcher may keep a control client on a server, and on which session.

A control client is attached to a session, so attaching must change nothing a person
relies on: never to a session that dies when unattached (`destroy-unattached`: ours would
keep it alive, and its going would end it), never on a server that exits when nobody is
attached (`exit-unattached`), never where a person's hook runs for clients that come and
go. It attaches to the session `tmux attach` itself would pick (the most recently active),
so which session a person's next bare `tmux attach` lands in does not change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guardian.errors import TmuxError
from guardian.tmux.control import QUIET_HOOKS

if TYPE_CHECKING:
    from guardian.tmux.adapter import TmuxAdapter

SEP = "\x1f"
_SESSIONS = (
    "list-sessions",
    "-F",
    SEP.join(
        ("#{session_id}", "#{session_activity}", "#{destroy-unattached}", "#{exit-unattached}")
    ),
)
OWN_SESSION = ["display-message", "-p", f"C{SEP}#{{session_id}}{SEP}\x1e"]
"""Asked on the control client after the reading: the session it is attached to."""


def control_session(adapter: TmuxAdapter) -> str | None:
    """The session to attach a control client to, or None when none may be."""
    try:
        lines = adapter.run(list(_SESSIONS)).splitlines()
        hooks = adapter.run(["show-hooks", "-g"]).splitlines()
    except TmuxError:
        return None
    best: tuple[int, str] | None = None
    for line in lines:
        parts = line.split(SEP)
        if len(parts) != 4:
            return None
        session_id, activity, destroy, exit_unattached = parts
        if exit_unattached in ("1", "on"):
            return None
        if not activity.isdigit():
            return None
        if best is None or int(activity) > best[0]:
            best = (int(activity), session_id if destroy in ("0", "off") else "")
    if best is None or not best[1] or _person_hooks(hooks):
        return None
    try:
        if _person_hooks(adapter.run(["show-hooks", "-t", best[1]]).splitlines()):
            return None
    except TmuxError:
        return None
    return best[1]


def _person_hooks(lines: list[str]) -> bool:
    """A hook set on a client's coming and going (tmux lists unset hooks bare)."""
    return any(line.split("[", 1)[0].split(" ", 1)[0] in QUIET_HOOKS and (
        "[" in line or " " in line.strip()) for line in lines)  # fmt: skip


def split_own_session(output: str) -> tuple[str, str | None]:
    """The read's answer without the control client's own record, and that session."""
    end = "\x1e\n"
    start = output.rfind(end, 0, len(output) - len(end)) + len(end) if len(output) > 2 else 0
    start = start if start >= len(end) else 0
    last = output[start:]
    if not last.startswith("C" + SEP) or not last.endswith(SEP + end):
        return output, None
    return output[:start], last[2 : -len(SEP + end)]
