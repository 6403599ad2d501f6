"""The tmux commands that build one session from its plan, phase by phase, and how each
phase's `-P` answers are read back (new ids are only known once tmux made them).

Phases:
  1. create    `new-session -d -P` (reads back session, window and pane ids);
  2. build     windows and panes, `select-layout tiled` between splits so room never runs out;
  3. configure sizes, exact layouts, titles, programs, active pane/window, zoom.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from guardian.tmux.building import building_name
from guardian.tmux.names import exact_argv, format_literal, unvis_session_name
from guardian.tmux.prompt import Typing
from guardian.tmux.reading import FIELD_SEP
from recovery.files import PRIVATE_FILE, ensure_private_dir
from recovery.plan import LaunchKind, PanePlan, SessionPlan, WindowPlan
from recovery.tmux_options import RUNS

Commands = list[list[str]]
_SHOW_CONTENTS = 'cat -- "$1"; rm -f -- "$1"; exec "${SHELL:-/bin/sh}"'
_SHOW_THEN_RUN = 'cat -- "$1"; rm -f -- "$1"; shift; exec "$@"'
_PLACEHOLDER = "_tg-placeholder"


@dataclass
class BuiltSession:
    """A session under construction: its plan and the ids tmux gave what was built."""

    plan: SessionPlan
    build_name: str = field(default_factory=building_name)
    """The name it is built under; it gets its real one once whole (tmux.building)."""
    session_id: str = ""
    window_ids: list[str] = field(default_factory=list)
    pane_ids: list[list[str]] = field(default_factory=list)
    first_window_index: int = -1
    warnings: list[str] = field(default_factory=list)


def session_name_arg(name: str) -> str:
    """A session name as tmux reports it, turned back into a `-s` argument."""
    return format_literal(unvis_session_name(name))


class ContentFiles:
    """Private scratch files holding saved pane text, shown by the pane's first command."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.paths: list[Path] = []

    def write(self, text: str) -> Path | None:
        if self.directory is None:
            return None
        ensure_private_dir(self.directory)
        path = self.directory / f"contents-{secrets.token_hex(8)}.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        self.paths.append(path)
        return path

    def remove_all(self) -> None:
        for path in self.paths:
            with contextlib.suppress(OSError):
                path.unlink()


class SessionCommands:
    """Phase by phase, the commands for one BuiltSession and the reading of their answers."""

    def __init__(self, contents: ContentFiles) -> None:
        self.contents = contents

    # -- arguments -----------------------------------------------------------------------

    def window_args(self, window: WindowPlan, pane: PanePlan) -> list[str]:
        return name_args(window) + self.pane_args(pane)

    def pane_args(self, pane: PanePlan) -> list[str]:
        args = ["-c", format_literal(pane.cwd), *environment_args(pane.environment)]
        launch = pane.launch
        if launch.kind is LaunchKind.COMMAND and launch.line:
            return [*args, launch.line]  # shell text: tmux runs it with `default-shell -c`
        if launch.kind is LaunchKind.COMMAND and launch.command:
            shown = pane.shown_first
            path = self.contents.write(shown) if shown else None
            if path is not None:  # its old text first, then the program itself
                return [*args, "sh", "-c", _SHOW_THEN_RUN, "sh", str(path), *launch.command]
            return [*args, *exact_argv(launch.command)]
        shown = pane.shown_first
        if shown:
            path = self.contents.write(shown)
            if path is not None:
                return [*args, "sh", "-c", _SHOW_CONTENTS, "sh", str(path)]
        return args

    # -- phase 1: the session --------------------------------------------------------------

    def create_pieces(self, item: BuiltSession) -> list[Commands]:
        """The session (its environment is the session's, `-e`), then the options that
        must hold before its panes start. When they change how a pane starts
        (`default-shell`: `respawn-pane` keeps the old one), or the first pane has an
        environment of its own, the session starts with a placeholder window and its first
        window is made once they are set, as tmuxp does."""
        plan = item.plan
        window, pane = plan.windows[0], plan.windows[0].panes[0]
        fmt = FIELD_SEP.join(("#{session_id}", "#{window_id}", "#{window_index}", "#{pane_id}"))
        command = ["new-session", "-d", "-s", item.build_name]
        command += ["-x", str(window.width), "-y", str(window.height)]
        command += environment_args(plan.environment)
        target = f"={item.build_name}:"  # a pane target: `=NAME` alone is not found
        settings: Commands = [["set-option", "-g", k, v] for k, v in plan.global_options]
        settings += [["set-option", "-t", target, k, v] for k, v in plan.options]
        names = {name for name, _ in (*plan.options, *plan.global_options)}
        if not pane.environment and not names & RUNS:
            return [[[*command, "-P", "-F", fmt, *self.window_args(window, pane)], *settings]]
        placeholder = [*command, "-n", _PLACEHOLDER, "-c", format_literal(pane.cwd)]
        return [
            [
                placeholder,
                *settings,
                ["new-window", "-t", target, *self.window_args(window, pane)],
                ["kill-window", "-t", f"{target}={_PLACEHOLDER}"],
                ["display-message", "-p", "-t", target, fmt],
            ]
        ]

    @staticmethod
    def read_create(item: BuiltSession, lines: list[str]) -> None:
        session_id, window_id, window_index, pane_id = lines[0].split(FIELD_SEP)
        item.session_id = session_id
        item.window_ids = [window_id]
        item.pane_ids = [[pane_id]]
        item.first_window_index = int(window_index)

    # -- phase 2: windows and panes ----------------------------------------------------------

    def build_pieces(self, item: BuiltSession) -> list[Commands]:
        plan, pieces = item.plan, []
        first = plan.windows[0]
        for position, window in enumerate(plan.windows):
            commands: Commands = []
            pieces.append(commands)
            if position == 0 and item.first_window_index != first.index:
                target = f"{item.session_id}:{first.index}"
                commands.append(["move-window", "-s", item.window_ids[0], "-t", target])
            target = f"{item.session_id}:{window.index}"
            if position > 0:
                ids = f"#{{window_id}}{FIELD_SEP}#{{pane_id}}"
                window_args = self.window_args(window, window.panes[0])
                commands.append(["new-window", "-P", "-F", ids, "-t", target, *window_args])
            # before its other panes start, as tmuxp sets them (`remain-on-exit` keeps a
            # pane whose command fails at once)
            commands += [["set-option", "-w", "-t", target, k, v] for k, v in window.options]
            for count, pane in enumerate(window.panes[1:]):
                # The first split names its pane; later ones follow tmux's current pane,
                # which each split moves to the pane it just made.
                where = ["-t", item.pane_ids[0][0]] if position == 0 and count == 0 else []
                commands.append(
                    ["split-window", "-P", "-F", "#{pane_id}", *where, *self.pane_args(pane)]
                )
                commands.append(["select-layout", "tiled"])
        return pieces

    @staticmethod
    def read_build(item: BuiltSession, lines: list[str]) -> None:
        queue = iter(lines)
        for position, window in enumerate(item.plan.windows):
            if position > 0:
                window_id, pane_id = next(queue).split(FIELD_SEP)
                item.window_ids.append(window_id)
                item.pane_ids.append([pane_id])
            for _pane in window.panes[1:]:
                item.pane_ids[position].append(next(queue).strip())

    # -- phase 5: typing at each shell's prompt (tmux.prompt) ----------------------------------

    @staticmethod
    def typings(item: BuiltSession) -> list[Typing]:
        """What to type into the session's shells, once each is at its prompt."""
        found = []
        for window, pane_ids in zip(item.plan.windows, item.pane_ids, strict=True):
            for pane, pane_id in zip(window.panes, pane_ids, strict=True):
                launch = pane.launch
                if launch.keys and launch.kind in (LaunchKind.RUN_IN_SHELL, LaunchKind.TYPED):
                    where = f"{item.plan.name}:{window.index}.{pane.index}"
                    found.append(
                        Typing(
                            pane_id,
                            launch.keys,
                            launch.press_enter,
                            where,
                            launch.then,
                            launch.last_unsent,
                        )
                    )
        return found

    @staticmethod
    def options_after(item: BuiltSession) -> Commands:
        """Options set once the panes' commands are typed (synchronize-panes would type
        each command into every pane)."""
        return [
            ["set-option", "-w", "-t", window_id, name, value]
            for window, window_id in zip(item.plan.windows, item.window_ids, strict=True)
            for name, value in window.options_after
        ]

    # -- phase 4: the real name ----------------------------------------------------------------

    @staticmethod
    def name_pieces(item: BuiltSession) -> list[Commands]:
        """Whole and verified: it takes the place of the session it replaces, and its name.
        tmux refuses the rename if someone took the name meanwhile: nothing is lost."""
        commands: Commands = []
        if item.plan.replaces:
            commands.append(["kill-session", "-t", item.plan.replaces])
        name = session_name_arg(item.plan.name)
        commands.append(["rename-session", "-t", item.session_id, "--", name])  # "-x" is a name
        return [commands]

    # -- phase 3: sizes, layouts, programs, focus ---------------------------------------------

    def configure_pieces(self, item: BuiltSession) -> list[Commands]:
        pieces: list[Commands] = []
        active_window = None
        for window, window_id, pane_ids in zip(
            item.plan.windows, item.window_ids, item.pane_ids, strict=True
        ):
            pieces.append(self.configure_window(window, window_id, pane_ids))
            if window.active:
                active_window = window_id
        pieces.append([["select-window", "-t", active_window or item.window_ids[0]]])
        return pieces

    @staticmethod
    def configure_window(window: WindowPlan, window_id: str, pane_ids: list[str]) -> Commands:
        size = ["-x", str(window.width), "-y", str(window.height)]
        commands: Commands = [
            ["resize-window", "-t", window_id, *size],
            ["select-layout", "-t", window_id, window.layout],
            # resize-window leaves `window-size manual` behind; a person attaching later
            # would be stuck at this size.
            ["set-option", "-w", "-t", window_id, "-u", "window-size"],
        ]
        active_pane = pane_ids[0]
        for pane, pane_id in zip(window.panes, pane_ids, strict=True):
            if pane.title:
                commands.append(["select-pane", "-t", pane_id, "-T", format_literal(pane.title)])
            if pane.active:
                active_pane = pane_id
        commands.append(["select-pane", "-t", active_pane])
        if window.zoomed:
            commands.append(["resize-pane", "-Z", "-t", active_pane])
        for pane, pane_id in zip(window.panes, pane_ids, strict=True):
            commands += program_keys(pane, pane_id)
        return commands


def name_args(window: WindowPlan) -> list[str]:
    return [] if window.automatic_rename else ["-n", format_literal(window.name)]


def environment_args(pairs: tuple[tuple[str, str], ...]) -> list[str]:
    """`-e NAME=value` for each (tmux takes them literally: no format is expanded)."""
    return [arg for name, value in pairs for arg in ("-e", f"{name}={value}")]


def program_keys(pane: PanePlan, pane_id: str) -> Commands:
    """The lines a vouched file types into a pane's own program (tmuxp's `shell` with
    `shell_command`), sent at once, as tmuxp sends them: the program reads them when it
    is ready."""
    launch = pane.launch
    if launch.kind is not LaunchKind.COMMAND or not launch.line:
        return []
    commands: Commands = []
    for number, line in enumerate(launch.then):
        commands.append(["send-keys", "-t", pane_id, "-l", "--", line])
        if not (launch.last_unsent and number == len(launch.then) - 1):
            commands.append(["send-keys", "-t", pane_id, "Enter"])
    return commands
