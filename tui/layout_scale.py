"""Where a pane's box goes in a picture of its window: tmux's cells scaled to the room the
picture has (pure arithmetic, so tests can check every box against tmux's geometry)."""

from __future__ import annotations

from guardian.view import PaneBox, WindowLayout

Box = tuple[int, int, int, int]
"""x, y, width, height in the picture's cells."""


def scaled(pane: PaneBox, window: WindowLayout, width: int, height: int) -> Box:
    """The pane's box in a picture `width` x `height` of its window: each edge rounded to
    the nearest cell, so a box is within one cell of tmux's geometry scaled."""
    sx = width / max(window.width, 1)
    sy = height / max(window.height, 1)
    x0, x1 = round(pane.left * sx), round((pane.left + pane.width) * sx)
    y0, y1 = round(pane.top * sy), round((pane.top + pane.height) * sy)
    x0, y0 = min(x0, width - 1), min(y0, height - 1)
    return x0, y0, max(min(x1, width) - x0, 1), max(min(y1, height) - y0, 1)
