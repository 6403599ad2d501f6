"""What counts as a change worth a new checkpoint (DESIGN.md, "Checkpoints")."""

from __future__ import annotations

from recovery.canonical import sha256_hex
from recovery.models import SessionState


def structure_key(session: SessionState) -> str:
    """A digest of names, indexes, pane count and geometry, cwd, programs, active and zoom,
    and of the session group it belongs to.

    Titles, pids and live ids are left out: they change without the layout changing.
    """
    windows = [
        {
            "index": w.index,
            "name": w.name,
            "size": [w.width, w.height],
            "active": w.active,
            "zoomed": w.zoomed,
            "panes": [
                {
                    "index": p.index,
                    "geometry": list(p.geometry),
                    "cwd": p.cwd,
                    "active": p.active,
                    "shell": p.is_shell,
                    "program": list(p.program.argv) if p.program else None,
                    "exe": p.program.exe if p.program else None,
                    "typed": list(p.typed_commands),
                    "choice": p.choice.model_dump() if p.choice else None,
                    "job": [list(stage.argv) for stage in p.job],
                    # a new conversation (an agent's /clear) is worth a checkpoint
                    "resume": p.resume.model_dump(exclude={"started_at"}) if p.resume else None,
                }
                for p in w.panes
            ],
        }
        for w in session.windows
    ]
    key: dict[str, object] = {"name": session.name, "windows": windows}
    if session.group:  # (only then: an ungrouped session's digest stays what it was)
        key["group"] = session.group
    return sha256_hex(key)
