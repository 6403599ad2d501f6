"""Session groups in a restore: which sessions join their group instead of being built
(`recovery.groups` decides), and joining them once their group's first member is built."""

from __future__ import annotations

from collections.abc import Sequence

from guardian.tmux.adapter import TmuxAdapter
from guardian.tmux.building import is_building
from guardian.tmux.executor import SessionOutcome
from guardian.tmux.group_joins import join_group
from recovery.checkpoint import Checkpoint
from recovery.groups import GroupMember, JoinPlan, LiveSession, arrange_groups
from recovery.models import SessionState

Member = tuple[str, Checkpoint, str | None]
"""A session a restore brings back: its name, its checkpoint, the live id it replaces."""


def plan_joins(
    members: Sequence[Member], live: Sequence[SessionState], *, grouped: bool = True
) -> dict[str, JoinPlan]:
    """Name -> how it joins, for each member that joins its group. A session about to be
    replaced is no peer to join (its windows would outlive it in the member that joined);
    `grouped=False` (a copy restored beside it, `--as`) builds everything in full."""
    if not grouped:
        return {}
    replaced = {replaces for _, _, replaces in members if replaces}
    peers = [
        LiveSession(s.session_id, s.name, s.group)
        for s in live
        if s.session_id not in replaced and not is_building(s.name)
    ]
    joins = arrange_groups([GroupMember(n, c.session.group) for n, c, _ in members], peers)
    plans: dict[str, JoinPlan] = {}
    for name, checkpoint, replaces in members:
        joining = joins.get(name)
        if joining is not None:
            active = checkpoint.session.active_window
            index = active.index if active is not None else None
            plans[name] = JoinPlan(name, checkpoint.id, joining, index, replaces)
    return plans


def run_joins(
    adapter: TmuxAdapter, plans: Sequence[JoinPlan], built: dict[str, str]
) -> list[SessionOutcome]:
    """Join each member to its peer: a live one, or one this restore built (`built`:
    name -> session id). A member whose peer failed to build fails too, and says why."""
    outcomes = []
    for plan in plans:
        peer = plan.joining
        peer_id = peer.peer_id or built.get(peer.peer)
        if peer_id is None:
            error = f"not restored: its group's session '{peer.peer}' could not be built"
            outcomes.append(SessionOutcome(plan.name, plan.checkpoint_id, False, error=error))
            continue
        outcomes.append(join_group(adapter, plan, peer_id))
    return outcomes
