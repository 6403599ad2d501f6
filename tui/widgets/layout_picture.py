"""LayoutPicture: a window drawn to scale from tmux's pane geometry, each pane a box with
its program and the tail of its directory; panes that differ from the other picture are
marked: + new, a minus sign gone, ≠ changed."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widget import Widget
from textual.widgets import Static

from guardian.view import PaneBox as Pane
from guardian.view import WindowLayout
from tui.formatting import fit, path_tail, plain
from tui.layout_scale import scaled

MARKS = {"new": ("+", "green"), "gone": ("−", "red"), "changed": ("≠", "yellow")}


class PaneBox(Static):
    """One pane's box, placed by the picture (absolute, in cells)."""

    DEFAULT_CSS = """
    PaneBox {
        position: absolute;
        border: round $foreground 40%;
        border-title-align: left;
        padding: 0;
    }
    PaneBox.active { border: round $accent; }
    PaneBox.-new { border: round $success; }
    PaneBox.-gone { border: round $error; }
    PaneBox.-changed { border: round $warning; }
    PaneBox.-tiny { border: none; background: $foreground 15%; }
    """

    def __init__(self, pane: Pane, window: int, mark: str | None) -> None:
        super().__init__(classes=f"-{mark}" if mark else "")
        self.pane = pane
        self.where = f"{window}.{pane.index}"
        self.mark = mark
        self.set_class(pane.active, "active")

    def place(self, box: tuple[int, int, int, int]) -> None:
        x, y, width, height = box
        self.styles.offset = (x, y)
        self.styles.width = width
        self.styles.height = height
        tiny = width < 3 or height < 2
        self.set_class(tiny, "-tiny")
        inner = max(width - (0 if tiny else 2), 0)
        self.border_title = plain(self.label(width - 6))
        program = self.pane.program if not self.pane.dead else "dead"
        text = plain(fit(program, inner), style="bold red" if self.pane.dead else "bold")
        text.append("\n")
        text.append(plain(path_tail(self.pane.cwd, inner), style="dim"))
        self.update(text)

    def label(self, room: int) -> str:
        """The mark and `WINDOW.PANE`, or as much as the border has room for."""
        sign = MARKS[self.mark][0] if self.mark else ""
        index = str(self.pane.index)
        for label in (f"{sign} {self.where}".strip(), f"{sign}{self.where}", sign + index, sign):
            if len(label) <= room:
                return label
        return ""


class LayoutPicture(Widget):
    """One window of a session (live, or as a checkpoint holds it), to scale."""

    DEFAULT_CSS = """
    LayoutPicture { height: 1fr; width: 1fr; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.window: WindowLayout | None = None
        self.marks: dict[int, str] = {}
        self.empty = ""
        self.drawn: object = None

    def show(
        self, window: WindowLayout | None, marks: dict[int, str] | None = None, empty: str = ""
    ) -> None:
        """Draw `window` (or say `empty` when there is none), its panes marked."""
        self.window, self.marks, self.empty = window, dict(marks or {}), empty
        self.draw()

    def on_resize(self, event: events.Resize) -> None:
        self.draw()

    def draw(self) -> None:
        width, height = self.content_size
        key = (self.window, sorted(self.marks.items()), self.empty, width, height)
        if key == self.drawn:
            return  # the same picture: not drawn again (every poll asks)
        self.drawn = key
        self.remove_children()
        if self.window is None or width < 1 or height < 1:
            self.mount(Static(Text(self.empty, style="dim")))
            return
        boxes = []
        for pane in self.window.panes:
            box = PaneBox(pane, self.window.index, self.marks.get(pane.index))
            boxes.append(box)
        self.mount_all(boxes)
        for box in boxes:
            box.place(scaled(box.pane, self.window, width, height))

    def boxes(self) -> list[PaneBox]:
        return list(self.query(PaneBox))
