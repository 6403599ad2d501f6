"""tmux layout strings: `csum,WxH,X,Y{...}` / `[...]` / `,ID` leaves. Only read, never
built: the checksum stays tmux's own.

No layout reaches tmux unless it is one of the five names or its syntax, bounds and
checksum verify: a malformed one makes `select-layout` segfault tmux 3.3a, and every
session of that server dies with it (FIELD_NOTES.md)."""

from __future__ import annotations

import re

_CELL = re.compile(r"(\d+)x(\d+),(\d+),(\d+)")


LAYOUT_NAMES = ("even-horizontal", "even-vertical", "main-horizontal", "main-vertical", "tiled")
MAX_CELL = 10_000
"""tmux's own window limit (WINDOW_MAXIMUM)."""
MAX_PANES = 1_000
MAX_LENGTH = 100_000
MAX_DEPTH = 32
"""Splits inside splits: real layouts nest a few levels; tmux's parser recurses."""


class LayoutError(ValueError):
    pass


def layout_size(layout: str) -> tuple[int, int]:
    """The window size a layout string was made for."""
    match = _CELL.search(layout)
    if not match:
        raise LayoutError(f"not a tmux layout: {layout!r}")
    return int(match.group(1)), int(match.group(2))


def layout_panes(layout: str) -> list[tuple[int, int, int, int]]:
    """(left, top, width, height) of each pane, in tmux's pane order."""
    body = layout.split(",", 1)[1] if re.match(r"^[0-9a-f]{4},", layout) else layout
    cells: list[tuple[int, int, int, int]] = []
    position = 0

    def cell() -> None:
        nonlocal position
        match = _CELL.match(body, position)
        if not match:
            raise LayoutError(f"bad layout at character {position}: {layout!r}")
        position = match.end()
        width, height, left, top = (int(g) for g in match.groups())
        if position < len(body) and body[position] in "{[":
            closing = "}" if body[position] == "{" else "]"
            position += 1
            while True:
                cell()
                if position < len(body) and body[position] == ",":
                    position += 1
                    continue
                if position < len(body) and body[position] == closing:
                    position += 1
                    return
                raise LayoutError(f"bad layout at character {position}: {layout!r}")
        if position < len(body) and body[position] == ",":
            ident = re.match(r",(\d+)", body[position:])
            if ident:
                position += ident.end()
        cells.append((left, top, width, height))

    cell()
    if position != len(body):
        raise LayoutError(f"bad layout at character {position}: {layout!r}")
    return cells


def layout_checksum(body: str) -> str:
    """tmux's checksum of a layout body (layout_checksum in layout-custom.c)."""
    csum = 0
    for char in body.encode():
        csum = (csum >> 1) + ((csum & 1) << 15)
        csum = (csum + char) & 0xFFFF
    return f"{csum:04x}"


def stacked_layout(width: int, height: int, panes: int) -> str | None:
    """The layout `panes` panes make when each splits the one before it in two, top and
    bottom (`split-window` without options, as `tmuxp load` builds a window with no
    layout): the old pane keeps the upper half and the extra row. None when one would
    have no room (tmux refuses such a split)."""
    heights = [height]
    for _ in range(panes - 1):
        new = (heights[-1] - 1) // 2
        old = heights[-1] - 1 - new
        if new < 1 or old < 1:
            return None
        heights[-1:] = [old, new]
    if panes == 1:
        body = f"{width}x{height},0,0,0"
    else:
        cells, top = [], 0
        for number, cell_height in enumerate(heights):
            cells.append(f"{width}x{cell_height},0,{top},{number}")
            top += cell_height + 1
        body = f"{width}x{height},0,0[{','.join(cells)}]"
    return f"{layout_checksum(body)},{body}"


def check_layout(layout: str) -> None:
    """Raise LayoutError unless tmux would accept `layout` (checksum, shape, bounds)."""
    if len(layout) > MAX_LENGTH:
        raise LayoutError(f"{len(layout)} characters long")
    if not re.match(r"^[0-9a-f]{4},", layout):
        raise LayoutError("no checksum")
    if layout_checksum(layout[5:]) != layout[:4]:
        raise LayoutError("checksum mismatch")
    depth = deepest = 0
    for char in layout:
        depth += 1 if char in "{[" else -1 if char in "}]" else 0
        deepest = max(deepest, depth)
    if deepest > MAX_DEPTH:
        raise LayoutError(f"splits nested {deepest} deep")
    try:
        cells = layout_panes(layout)
    except RecursionError:
        raise LayoutError("nested too deeply") from None
    if len(cells) > MAX_PANES:
        raise LayoutError(f"{len(cells)} panes")
    width, height = layout_size(layout)
    if not (0 < width <= MAX_CELL and 0 < height <= MAX_CELL):
        raise LayoutError(f"a window of {width}x{height}")
    for left, top, cell_width, cell_height in cells:
        if cell_width <= 0 or cell_height <= 0 or left + cell_width > width + 1:
            raise LayoutError("a pane outside its window")
        if top + cell_height > height + 1:
            raise LayoutError("a pane outside its window")


def safe_layout(layout: str) -> tuple[str, str | None]:
    """The layout to give tmux, and a warning when `layout` had to be replaced by tiled."""
    if layout in LAYOUT_NAMES:
        return layout, None
    try:
        check_layout(layout)
    except LayoutError as exc:
        shown = layout if len(layout) <= 60 else layout[:57] + "..."
        return "tiled", f"layout {shown!r} is not one tmux accepts ({exc}): tiled instead"
    return layout, None
