"""LayoutComparison: the selected session's live window beside the same window in the
selected checkpoint, both to scale, the panes that differ marked in both."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal

from guardian.view import CheckpointRow, SessionDetail, WindowLayout
from tui.checkpoint_diff import pane_marks, pick
from tui.formatting import age, as_of, plain
from tui.widgets.layout_picture import LayoutPicture


class LayoutComparison(Horizontal):
    DEFAULT_CSS = """
    LayoutComparison { height: 1fr; }
    LayoutComparison > LayoutPicture {
        border: round $secondary;
        border-title-align: left;
        border-subtitle-style: bold;
        border-subtitle-color: $warning;
    }
    """

    def __init__(self, clock: Callable[[], float], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.clock = clock
        self.window_index: int | None = None

    def compose(self) -> ComposeResult:
        yield LayoutPicture(id="live")
        yield LayoutPicture(id="saved")

    def show(self, detail: SessionDetail | None, checkpoint: CheckpointRow | None) -> None:
        live_windows = detail.layout if detail is not None else ()
        saved_windows = checkpoint.layout if checkpoint is not None else ()
        live = pick(live_windows, self.window_index)
        saved = pick(saved_windows, live.index if live is not None else self.window_index)
        if live is not None and saved is not None and saved.index != live.index:
            saved = None  # the checkpoint has no such window: nothing to set beside it
        live_marks, saved_marks = pane_marks(live, saved)
        left = self.query_one("#live", LayoutPicture)
        right = self.query_one("#saved", LayoutPicture)
        stale = detail is not None and detail.row.stale
        # never "live" when it is not: the window as of when its server last answered
        left.border_title = _title("" if stale else "live", live, live_windows)
        left.border_subtitle = as_of(detail.row.as_of) if detail is not None and stale else ""
        left.show(live, live_marks, "not running" if detail is not None else "")
        when = age(self.clock() - checkpoint.created_at) if checkpoint else "checkpoint"
        right.border_title = _title(when, saved, ())
        if checkpoint is None:
            why = "no checkpoint"
        elif not checkpoint.verified:
            why = "does not verify: not drawn"
        else:
            why = f"no window {live.index}" if live is not None else ""
        right.show(saved, saved_marks, why)

    def next_window(self, windows: tuple[WindowLayout, ...]) -> None:
        """Show the next window (of the live session, or the checkpoint's)."""
        if not windows:
            return
        indexes = [w.index for w in windows]
        current = pick(windows, self.window_index)
        at = indexes.index(current.index) if current is not None else -1
        self.window_index = indexes[(at + 1) % len(indexes)]


def _title(label: str, window: WindowLayout | None, windows: tuple[WindowLayout, ...]) -> Text:
    """`live 0:editor 1/3`: which window of how many."""
    text = Text(label)
    if window is not None:
        text.append(" " if label else "")
        text.append(plain(f"{window.index}:{window.name}", style="bold"))
        if len(windows) > 1:
            text.append(f" {[w.index for w in windows].index(window.index) + 1}/{len(windows)}")
    return text
