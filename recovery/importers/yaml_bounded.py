"""YAML from someone else's file, read within bounds: a size cap, no aliases (a 378-byte
"billion laughs" file expands to gigabytes through them; workspaces never need them), and
no nesting deep enough to exhaust the stack."""

from __future__ import annotations

from typing import Any

import yaml

from recovery.importers.common import MAX_FILE_BYTES, ImportError_


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases (`*name`) instead of expanding them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise ImportError_("YAML aliases (*name) are not accepted in a workspace")
        return super().compose_node(parent, index)


def load_yaml_bounded(text: str) -> object:
    if len(text) > MAX_FILE_BYTES:
        raise ImportError_(f"{len(text)} characters: not a workspace (at most {MAX_FILE_BYTES})")
    try:
        return yaml.load(text, Loader=_NoAliasLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "somewhere"
        raise ImportError_(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    except RecursionError:
        raise ImportError_("nested too deeply to be a workspace") from None
