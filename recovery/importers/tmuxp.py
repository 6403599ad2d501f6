"""tmuxp workspaces (YAML or JSON) into checkpoints."""

from __future__ import annotations

from datetime import datetime

from recovery.checkpoint import Checkpoint
from recovery.importers.common import ImportError_, checkpoint_of, typed_commands
from recovery.importers.yaml_bounded import load_yaml_bounded
from recovery.models import PaneState, ServerInfo, SessionState, WindowState


def parse_tmuxp(
    text: str, server: ServerInfo, when: datetime, home: str, *, vouched: bool = False
) -> Checkpoint:
    """A tmuxp workspace (YAML or JSON) into a checkpoint."""
    data = load_yaml_bounded(text)
    if not isinstance(data, dict) or not isinstance(data.get("session_name"), str):
        raise ImportError_("'session_name': missing (not a tmuxp workspace)")
    windows = data.get("windows")
    if not isinstance(windows, list) or not windows:
        raise ImportError_("'windows': must be a non-empty list")
    base = _expand(data.get("start_directory"), home, home)
    states = [_tmuxp_window(window, w_index, base, home) for w_index, window in enumerate(windows)]
    if not any(w.active for w in states):
        states[0] = states[0].model_copy(update={"active": True})
    session = SessionState(
        session_id="$?", name=data["session_name"], created=0, windows=tuple(states)
    )
    return checkpoint_of(session, server, when, "import tmuxp", vouched=vouched)


def _tmuxp_window(window: object, w_index: int, base: str, home: str) -> WindowState:
    where = f"windows[{w_index}]"
    if not isinstance(window, dict):
        raise ImportError_(f"'{where}': must be a mapping")
    w_dir = _expand(window.get("start_directory"), base, home)
    panes = window.get("panes") or [None]
    if not isinstance(panes, list):
        raise ImportError_(f"'{where}.panes': must be a list")
    pane_states = []
    for p_index, pane in enumerate(panes):
        commands, p_dir, focus = _tmuxp_pane(pane, f"{where}.panes[{p_index}]", w_dir, home)
        pane_states.append(
            PaneState(
                index=p_index,
                pane_id="%?",
                cwd=p_dir,
                title="",
                active=focus,
                width=0,
                height=0,
                left=0,
                top=0,
                is_shell=True,
                typed_commands=typed_commands(commands),
            )
        )
    if not any(p.active for p in pane_states):
        pane_states[0] = pane_states[0].model_copy(update={"active": True})
    layout = window.get("layout") or "tiled"
    if not isinstance(layout, str):
        raise ImportError_(f"'{where}.layout': must be a layout name or string")
    index = window.get("window_index", w_index)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= 100_000:
        raise ImportError_(f"'{where}.window_index': must be a number from 0 to 100000")
    return WindowState(
        index=index,
        window_id="@?",
        name=str(window.get("window_name") or ""),
        width=200,
        height=50,
        layout=layout,
        active=bool(window.get("focus")),
        panes=tuple(pane_states),
    )


def _expand(value: object, base: str, home: str) -> str:
    if value is None or value == "":
        return base
    text = str(value)
    if text.startswith("~"):
        text = home + text[1:]
    if not text.startswith("/"):
        text = f"{base.rstrip('/')}/{text}"
    return text


def _tmuxp_pane(pane: object, where: str, w_dir: str, home: str) -> tuple[list[str], str, bool]:
    if pane is None or pane in ("blank", "pane"):
        return [], w_dir, False
    if isinstance(pane, str):
        return [pane], w_dir, False
    if isinstance(pane, list):
        return [str(c) for c in pane], w_dir, False
    if isinstance(pane, dict):
        commands = pane.get("shell_command", [])
        if isinstance(commands, str):
            commands = [commands]
        if not isinstance(commands, list):
            raise ImportError_(f"'{where}.shell_command': must be a string or a list")
        commands = [c.get("cmd") if isinstance(c, dict) else c for c in commands]
        directory = _expand(pane.get("start_directory"), w_dir, home)
        return [str(c) for c in commands if c], directory, bool(pane.get("focus"))
    raise ImportError_(f"'{where}': must be a command, a list of commands or a mapping")
