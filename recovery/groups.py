"""Session groups on restore: which member of a group is built from its checkpoint and
which ones join it (`new-session -t`), sharing its windows instead of copying them.

tmux facts this rests on (3.3a, checked): a group's windows are listed once per member,
each member with its own active window; a group outlives all but one of its members (a
group of one keeps its name); a group is named after the session it was made from, at
the moment it is made, and a later rename does not change it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from recovery.may_run.text import visible


@dataclass(frozen=True)
class GroupMember:
    """A session about to be restored: the name it gets, the group its checkpoint names."""

    name: str
    group: str


@dataclass(frozen=True)
class LiveSession:
    """A session on the server that is not being built or replaced."""

    session_id: str
    name: str
    group: str


@dataclass(frozen=True)
class Joining:
    """A member that shares the windows of `peer` rather than being built."""

    member: str
    peer: str
    """The name of the session whose windows it shares."""
    peer_id: str | None = None
    """That session's id when it is already on the server; None: this restore builds it."""


def live_peer(group: str, live: Sequence[LiveSession]) -> LiveSession | None:
    """A live session of `group` (the one named after the group first). Failing that, an
    ungrouped session with the group's name: the member a restore built alone is such a
    session (a group of one is only made by a second member joining it)."""
    grouped = [s for s in live if s.group == group]
    named = [s for s in grouped if s.name == group]
    if named or grouped:
        return (named or grouped)[0]
    return next((s for s in live if not s.group and s.name == group), None)


def first_member(members: Sequence[GroupMember]) -> GroupMember:
    """The member built in full: the one named after the group, else the first in order."""
    return next((m for m in members if m.name == m.group), members[0])


def arrange_groups(
    members: Sequence[GroupMember], live: Sequence[LiveSession]
) -> dict[str, Joining]:
    """Member name -> whom it joins, for every member that joins; the others (no group,
    or the first of their group, or alone in it) are built in full from their checkpoint."""
    by_group: dict[str, list[GroupMember]] = {}
    for member in members:
        if member.group:
            by_group.setdefault(member.group, []).append(member)
    joins: dict[str, Joining] = {}
    for group, together in by_group.items():
        peer = live_peer(group, live)
        if peer is not None:
            joins.update({m.name: Joining(m.name, peer.name, peer.session_id) for m in together})
            continue
        first = first_member(together)
        joins.update({m.name: Joining(m.name, first.name) for m in together if m is not first})
    return joins


@dataclass(frozen=True)
class JoinPlan:
    """How one member comes back by joining its group."""

    name: str
    checkpoint_id: str
    joining: Joining
    active_window: int | None
    """The window that was active in this member (each member has its own)."""
    replaces: str | None = None
    """The id of a live session it takes the place of (`restore --replace`)."""

    def describe(self) -> list[str]:
        active = "" if self.active_window is None else f", window {self.active_window} active"
        return [
            visible(
                f"session '{self.name}' from checkpoint {self.checkpoint_id}: "
                f"joins group of '{self.joining.peer}' (shares its windows){active}"
            )
        ]
