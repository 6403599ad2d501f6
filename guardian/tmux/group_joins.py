"""A member of a session group brought back by joining its group (`new-session -t`): it
shares the windows of a session already built or live, and only its own active window is
its own. Like every build it is made under a building name and named once whole."""

from __future__ import annotations

import contextlib

from guardian.errors import TmuxError
from guardian.tmux.adapter import TmuxAdapter
from guardian.tmux.building import building_name
from guardian.tmux.executor import SessionOutcome
from guardian.tmux.session_commands import session_name_arg
from recovery.groups import JoinPlan


def join_group(adapter: TmuxAdapter, plan: JoinPlan, peer_id: str) -> SessionOutcome:
    """Join the group of the session `peer_id` (an id, never a name: tmux would take a
    name's prefix for another session), select the member's own active window, then give
    it its name in place of the session it replaces. On failure what was made is killed."""
    session_id = ""
    try:
        new = ["new-session", "-d", "-P", "-F", "#{session_id}", "-t", peer_id]
        session_id = adapter.run([*new, "-s", building_name()]).strip()
        warnings = _select_own_window(adapter, session_id, plan.active_window)
        naming = [["kill-session", "-t", plan.replaces]] if plan.replaces else []
        naming.append(["rename-session", "-t", session_id, "--", session_name_arg(plan.name)])
        adapter.run_commands(naming)
    except TmuxError as exc:
        if session_id:
            with contextlib.suppress(TmuxError):
                adapter.run(["kill-session", "-t", session_id])
        error = f"could not join the group of '{plan.joining.peer}': {exc}"
        return SessionOutcome(plan.name, plan.checkpoint_id, False, error=error)
    return SessionOutcome(plan.name, plan.checkpoint_id, True, session_id, warnings=warnings)


def _select_own_window(adapter: TmuxAdapter, session_id: str, index: int | None) -> list[str]:
    """The window that was active in this member; a window the group no longer has
    leaves the group's current one, with a warning."""
    if index is None:
        return []
    try:
        adapter.run(["select-window", "-t", f"{session_id}:{index}"])
    except TmuxError:
        return [f"window {index} is no longer in the group: its active window is another"]
    return []
