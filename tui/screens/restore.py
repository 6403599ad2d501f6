"""RestoreScreen: what a restore will build, and per pane how it comes back — run, hold
(typed at the prompt, Enter starts it) or shell — which the person may change before
saying yes, as Zellij lets people choose. A choice never goes above what the rule allows:
the preview is planned again after each change, so it shows what will really happen."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets.option_list import Option

from guardian.view import PaneComeback, RestorePreview, WindowLayout
from recovery.may_run.text import visible
from recovery.programs import Mode
from tui.checkpoint_diff import pick
from tui.formatting import plain
from tui.widgets.layout_picture import LayoutPicture

MARKS: dict[Mode | None, str] = {"run": "run  ", "hold": "hold ", "shell": "shell", None: "alive"}
Replan = Callable[[dict[str, Mode]], object]


class RestoreScreen(ModalScreen[dict[str, Mode] | None]):
    """Dismissed with the person's choices (`WINDOW.PANE` -> mode) to restore, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "restore", "Restore", id="restore-yes"),
        Binding("n,escape", "cancel", "Cancel", id="restore-no"),
        Binding("r", "choose('run')", "Run", id="restore-run"),
        Binding("h", "choose('hold')", "Hold", id="restore-hold"),
        Binding("s", "choose('shell')", "Shell", id="restore-shell"),
        Binding("w", "next_window", "Next window", id="restore-window"),
    ]

    def __init__(
        self,
        title: str,
        preview: RestorePreview,
        replan: Replan,
        layout: tuple[WindowLayout, ...] = (),
    ) -> None:
        super().__init__()
        self.title_text = title
        self.preview = preview
        self.replan = replan
        self.choices: dict[str, Mode] = {}
        self.windows = layout
        """The checkpoint's windows: the picture of what will be built."""
        self.window_index: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Label(Text(visible(self.title_text)), id="confirm-title")
            yield Static(Text(self._summary()), id="restore-summary")
            if self.windows:
                yield LayoutPicture(id="restore-picture")
            yield OptionList(*self._options(), id="restore-panes")
            yield Static(
                Text("r run · h hold (typed, Enter starts it) · s shell", style="dim"),
                id="restore-keys",
            )
            with Horizontal(id="confirm-buttons"):
                yield Button("Restore (y)", variant="warning", id="yes", compact=True)
                yield Button("Cancel (n)", variant="primary", id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.draw()

    def draw(self) -> None:
        """The window to be built, to scale (`w` shows the next one)."""
        if not self.windows:
            return
        window = pick(self.windows, self.window_index)
        picture = self.query_one(LayoutPicture)
        picture.show(window)
        if window is not None:
            at = [w.index for w in self.windows].index(window.index) + 1
            title = plain(f"will be built: window {window.index}:{window.name}")
            if len(self.windows) > 1:
                title.append(f" {at}/{len(self.windows)} (w: next)")
            picture.border_title = title

    def action_next_window(self) -> None:
        indexes = [w.index for w in self.windows]
        current = pick(self.windows, self.window_index)
        if current is not None:
            self.window_index = indexes[(indexes.index(current.index) + 1) % len(indexes)]
            self.draw()

    def _summary(self) -> str:
        return visible(self.preview.lines[0]) if self.preview.lines else ""

    def _options(self) -> list[Option]:
        return [
            Option(_label(pane), id=pane.where, disabled=not pane.choosable)
            for pane in self.preview.panes
        ]

    def show(self, preview: RestorePreview) -> None:
        """The plan again, after a choice (the worker that planned it calls this)."""
        self.preview = preview
        panes = self.query_one(OptionList)
        keep = panes.highlighted
        panes.clear_options()
        panes.add_options(self._options())
        panes.highlighted = keep
        self.query_one("#restore-summary", Static).update(Text(self._summary()))

    def action_choose(self, mode: Mode) -> None:
        panes = self.query_one(OptionList)
        if panes.highlighted is None:
            return
        option = panes.get_option_at_index(panes.highlighted)
        if option.disabled or option.id is None:
            return
        self.choices[option.id] = mode
        self.replan(dict(self.choices))

    def action_restore(self) -> None:
        self.dismiss(dict(self.choices))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(dict(self.choices) if event.button.id == "yes" else None)


def _label(pane: PaneComeback) -> Text:
    """`1.0  run    claude: resumes conversation 8b34… (exact); shell, then runs ...`"""
    mark = MARKS[pane.mode] if pane.choosable or pane.mode is None else "     "
    style = {"run": "green", "hold": "yellow", "shell": "dim"}.get(pane.mode or "", "cyan")
    text = Text(f"{pane.where:<6}", style="bold")
    text.append(mark, style=style)
    text.append("  " + visible(pane.how))
    return text
