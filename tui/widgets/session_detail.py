"""SessionDetail: notes under the layout pictures: why a session is unhealthy, how its
programs come back, how it differs from its newest checkpoint, and whether what is shown
is live. Wrapped at words for the width it has."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widget import Widget

from guardian.view import SessionDetail as Detail
from tui.formatting import as_of, fit, plain


class SessionDetail(Widget):
    DEFAULT_CSS = """
    SessionDetail { height: auto; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.detail: Detail | None = None

    def show(self, detail: Detail | None) -> None:
        self.detail = detail
        self.refresh(layout=True)

    def render(self) -> RenderableType:
        detail = self.detail
        if detail is None:
            return Text("no session selected", style="dim")
        width = max(self.content_size.width, 20)
        row = detail.row
        parts: list[RenderableType] = []
        if row.stale:  # never stale data shown as live
            said = f"{as_of(row.as_of)}: {row.stale}; the panes shown are as they were then"
            parts.append(plain(said, style="bold yellow"))
        parts += [plain(line, style="yellow") for line in row.evidence]
        if row.given_up:
            parts.append(plain(f"given up: {row.given_up}", style="bold red"))
        if not row.stale:  # (how it differs now is unknown while it does not answer)
            parts.append(_differences(detail))
        for pane in detail.panes:  # how each program comes back from the newest checkpoint
            if pane.comeback and not pane.comeback.startswith("shell"):
                how = pane.comeback.split("; ", 1)[0]  # `claude: resumes ... (exact)`
                said = f"{pane.window.split(':')[0]}.{pane.pane} ↳ {how}"
                parts.append(plain(fit(said, width), style="dim"))
        return Group(*parts)


def _differences(detail: Detail) -> Text:
    if detail.differences:
        label = "vs checkpoint: " if detail.checkpoint_id else ""
        return plain(label + "; ".join(detail.differences), style="italic")
    return Text("same as its newest checkpoint", style="dim")
