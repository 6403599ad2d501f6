"""Take over from the tools people use today: tmux-resurrect save files and tmuxp
workspaces become checkpoints (checked before any is written); a checkpoint becomes a tmuxp
workspace. Pure: text in, models out."""

from recovery.importers.common import ImportError_
from recovery.importers.export import export_tmuxp
from recovery.importers.resurrect import parse_resurrect

__all__ = ["ImportError_", "export_tmuxp", "parse_resurrect"]
