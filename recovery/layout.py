"""tmux layout strings: `csum,WxH,X,Y{...}` / `[...]` / `,ID` leaves. Only read, never
built: the checksum stays tmux's own."""

from __future__ import annotations

import re

_CELL = re.compile(r"(\d+)x(\d+),(\d+),(\d+)")


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


def check_layout(layout: str) -> None:
    """Raise LayoutError unless tmux would accept `layout` (checksum and shape)."""
    if not re.match(r"^[0-9a-f]{4},", layout):
        raise LayoutError(f"no checksum: {layout!r}")
    if layout_checksum(layout[5:]) != layout[:4]:
        raise LayoutError(f"checksum mismatch: {layout!r}")
    layout_panes(layout)
