"""tmuxp workspaces into checkpoints, with `tmuxp load`'s meaning. The file is read here
(bounded: YAML, or JSON for a `.json` file); tmuxp's own loader expands it (shorthands,
`start_directory` against the file's directory, `shell_command_before` at every level:
`guardian.operations.migrate` runs it, since tmuxp lives beside libtmux); this module
turns the expanded workspace into a session as `tmuxp load -d` builds it:

- windows at the size tmuxp would build them at (the terminal's, else 80x24), indexes
  from `window_index` or else the first free one (as `new-window` picks), unnamed windows
  named by tmux (automatic-rename on), without a layout the panes stacked as tmuxp's
  successive splits leave them;
- without `focus`, the last pane of each window is active and the first window;
- a pane's commands kept as the shell text they are, each a command of its own (typed
  with a leading space unless `suppress_history: false`, as tmuxp types them);
- no `start_directory` at any level: the directory the import was run from;
- a pane's `shell` (else its window's `window_shell`) is its own command, and its
  commands are typed into that program;
- `environment` of the session, and of a pane (else of its window); session `options` and
  `global_options` (whether each is set is the rules' to say: `recovery.plan_setup`).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from recovery.checkpoint import Checkpoint
from recovery.importers.common import MAX_FILE_BYTES, ImportError_, checkpoint_of, typed_commands
from recovery.importers.yaml_bounded import load_yaml_bounded
from recovery.layout import stacked_layout
from recovery.models import PaneChoice, PaneState, ServerInfo, SessionState, WindowState
from recovery.tmux_options import option_value

DEFAULT_SIZE = (80, 24)
"""tmux's `default-size`: what `tmuxp load -d` builds at without a terminal size."""
MAX_INDEX = 100_000


def load_workspace(text: str, *, json_file: bool = False) -> dict[str, Any]:
    """The workspace as data (not yet expanded), or an error naming the key at fault."""
    if len(text) > MAX_FILE_BYTES:
        raise ImportError_(f"{len(text)} characters: not a workspace (at most {MAX_FILE_BYTES})")
    if json_file:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ImportError_(f"not valid JSON ({exc})") from None
    else:
        data = load_yaml_bounded(text)
    if not isinstance(data, dict) or not isinstance(data.get("session_name"), str):
        raise ImportError_("'session_name': missing (not a tmuxp workspace)")
    windows = data.get("windows")
    if not isinstance(windows, list) or not windows:
        raise ImportError_("'windows': must be a non-empty list")
    for number, window in enumerate(windows):
        if not isinstance(window, dict):
            raise ImportError_(f"'windows[{number}]': must be a mapping")
        panes = window.get("panes")
        if panes is not None and not isinstance(panes, list):
            raise ImportError_(f"'windows[{number}].panes': must be a list")
        for p_number, pane in enumerate(panes or []):
            if pane is not None and not isinstance(pane, str | list | dict):
                raise ImportError_(
                    f"'windows[{number}].panes[{p_number}]': must be a command, a list of "
                    "commands or a mapping"
                )
    return data


NEVER_CARRIED = {
    "before_script": "a script tmuxp runs before it builds the session",
    "plugins": "Python code tmuxp imports and runs",
}


def not_carried(workspace: dict[str, Any]) -> list[str]:
    """What of the workspace is never carried over, each with why: tmux-guardian runs no
    file's scripts or code (a restore may happen unattended, after a crash)."""
    return [
        f"'{key}' ({why}): never run by tmux-guardian; run it yourself if you need it"
        for key, why in NEVER_CARRIED.items()
        if workspace.get(key)
    ]


def tmux_session_name(name: str) -> str:
    """The name tmux gives a session asked for as `name` (it turns `.` and `:` into `_`)."""
    return name.replace(".", "_").replace(":", "_")


def parse_expanded(
    workspace: dict[str, Any],
    server: ServerInfo,
    when: datetime,
    base: str,
    *,
    vouched: bool,
    size: tuple[int, int] = DEFAULT_SIZE,
) -> Checkpoint:
    """An expanded, trickled workspace (tmuxp's loader) into a checkpoint; `base` is the
    directory the import runs from (where `tmuxp load` would have started panes), `size`
    the one tmuxp would build its windows at (the terminal's)."""
    directory = _directory(workspace.get("start_directory"), base)
    windows: list[WindowState] = []
    used: set[int] = set()
    for number, window in enumerate(workspace["windows"]):
        index = _index(window.get("window_index"), used, f"windows[{number}].window_index")
        used.add(index)
        windows.append(_window(window, number, index, directory, size))
    if not any(w.active for w in windows):
        windows[0] = windows[0].model_copy(update={"active": True})
    elif sum(w.active for w in windows) > 1:  # tmuxp selects them in turn: the last wins
        last = max(i for i, w in enumerate(windows) if w.active)
        windows = [w.model_copy(update={"active": i == last}) for i, w in enumerate(windows)]
    session = SessionState(
        session_id="$?",
        name=tmux_session_name(workspace["session_name"]),
        created=0,
        environment=_pairs(workspace.get("environment"), "environment"),
        options=_options(workspace.get("options"), "options"),
        global_options=_options(workspace.get("global_options"), "global_options"),
        windows=tuple(sorted(windows, key=lambda w: w.index)),
    )
    return checkpoint_of(session, server, when, "import tmuxp", vouched=vouched)


def _index(value: object, used: set[int], where: str) -> int:
    """`window_index`, or the first free index (as `new-window` without one picks)."""
    if value is None:
        return next(i for i in range(MAX_INDEX + 1) if i not in used)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INDEX:
        raise ImportError_(f"'{where}': must be a number from 0 to {MAX_INDEX}")
    if value in used:
        raise ImportError_(f"'{where}': index {value} is taken by an earlier window")
    return value


def _window(
    window: dict[str, Any], number: int, index: int, base: str, size: tuple[int, int]
) -> WindowState:
    where = f"windows[{number}]"
    directory = _directory(window.get("start_directory"), base)
    panes = window.get("panes") or [{"shell_command": []}]
    quiet = window.get("suppress_history", True)
    states = [
        _pane(pane, f"{where}.panes[{i}]", i, directory, quiet) for i, pane in enumerate(panes)
    ]
    states = [
        _with_window_settings(s, p, window, where) for s, p in zip(states, panes, strict=True)
    ]
    if not any(p.active for p in states):  # tmuxp splits with the new pane active
        states[-1] = states[-1].model_copy(update={"active": True})
    width, height = size
    # no layout: the panes tmuxp makes, each splitting the one before it
    layout = window.get("layout") or stacked_layout(width, height, len(states)) or "tiled"
    if not isinstance(layout, str):
        raise ImportError_(f"'{where}.layout': must be a layout name or string")
    name = window.get("window_name")
    options = _options(window.get("options"), f"{where}.options")
    options_after = _options(window.get("options_after"), f"{where}.options_after")
    return WindowState(
        index=index,
        window_id="@?",
        name=str(name) if name is not None else "",
        width=width,
        height=height,
        layout=layout,
        active=bool(window.get("focus")),
        automatic_rename=name is None,
        options=options,
        options_after=options_after,
        panes=tuple(states),
    )


def _options(value: object, where: str) -> tuple[tuple[str, str], ...]:
    """`options` as name-value pairs (which may be set: `recovery.tmux_options`)."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise ImportError_(f"'{where}': must be a mapping of option names to values")
    return tuple((str(k), option_value(v)) for k, v in value.items())


def _pairs(value: object, where: str) -> tuple[tuple[str, str], ...]:
    """An `environment` as name-value pairs (which may be set: `recovery.may_run`)."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise ImportError_(f"'{where}': must be a mapping of variable names to values")
    for name, item in value.items():
        if isinstance(item, dict | list) or item is None:
            raise ImportError_(f"'{where}.{name}': must be a value")
    return tuple((str(k), option_value(v)) for k, v in value.items())


def _with_window_settings(
    state: PaneState, pane: dict[str, Any], window: dict[str, Any], where: str
) -> PaneState:
    """A pane's `environment` (else its window's) and `shell` (else its window's
    `window_shell`), as tmuxp's builder picks them: for the first pane an empty `shell`
    means the window's, for a later one the default shell."""
    environment = pane.get("environment", window.get("environment"))
    shell = pane.get("shell", window.get("window_shell"))
    if state.index == 0 and pane.get("shell") == "":
        shell = window.get("window_shell")
    if shell is not None and not isinstance(shell, str):
        raise ImportError_(f"'{where}.panes[{state.index}].shell': must be a command")
    update: dict[str, Any] = {"environment": _pairs(environment, f"{where}.environment")}
    if shell:  # the pane's own command; its commands are typed into that program
        update.update(is_shell=False, start_command=shell)
    return state.model_copy(update=update)


def _pane(pane: object, where: str, index: int, base: str, quiet: object) -> PaneState:
    """`quiet` (`suppress_history`, on unless the workspace says no): each command typed
    with a leading space, as tmuxp types it (kept out of the shell's history)."""
    if not isinstance(pane, dict):
        raise ImportError_(f"'{where}': must be a command, a list of commands or a mapping")
    commands = pane.get("shell_command") or []
    if not isinstance(commands, list):
        raise ImportError_(f"'{where}.shell_command': must be a string or a list")
    texts: list[str] = []
    unsent: list[str] = []
    enter = pane.get("enter", True)
    for command in commands:
        text = command.get("cmd") if isinstance(command, dict) else command
        if text is not None and not isinstance(text, str | int | float):
            raise ImportError_(f"'{where}.shell_command': a command must be text")
        # `enter` carries on to the commands after it, as tmuxp's builder reads it
        enter = command.get("enter", enter) if isinstance(command, dict) else enter
        if text is not None and str(text).strip():
            line = (" " if pane.get("suppress_history", quiet) else "") + _as_tmux_gets(str(text))
            (texts if enter is not False and not unsent else unsent).append(line)
    choice = None
    if unsent:  # typed without Enter: what follows lands on the same line, never run
        # (held whole when nothing runs before it; else only that last line is held)
        choice = PaneChoice(mode="hold", command="".join(unsent))
        texts.append("".join(unsent))
    return PaneState(
        index=index,
        pane_id="%?",
        cwd=_directory(pane.get("start_directory"), base),
        title="",
        active=bool(pane.get("focus")),
        width=0,
        height=0,
        left=0,
        top=0,
        is_shell=True,
        typed_commands=typed_commands(texts),
        choice=choice,
    )


def _as_tmux_gets(text: str) -> str:
    """tmuxp hands each command to `send-keys` as an argument, and tmux reads an argument
    ending in `\\;` as one ending in `;` (so a command list can hold a literal one)."""
    return text[:-2] + ";" if text.endswith("\\;") else text


def _directory(value: object, base: str) -> str:
    """An expanded `start_directory` (absolute after tmuxp's loader), else `base`."""
    if value is None or value == "":
        return base
    text = str(value)
    # as libtmux hands it to tmux (a pathlib path: `/var/` is `/var`)
    return str(PurePosixPath(text if text.startswith("/") else f"{base}/{text}"))
