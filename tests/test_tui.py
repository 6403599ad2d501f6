"""The placeholder UI lists what its data source gives it and refreshes on demand."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable

from tui.app import GuardianApp


def row(name: str, panes: int) -> dict[str, Any]:
    return {"name": name, "health": "healthy", "attached": False, "windows": 1,
            "panes": panes, "last_checkpoint": None}  # fmt: skip


async def test_lists_sessions_and_refreshes() -> None:
    data = [row("work", 3)]
    app = GuardianApp(lambda: list(data))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(DataTable)
        assert table.row_count == 1
        assert table.get_row_at(0)[0] == "work" and table.get_row_at(0)[3] == "1/3"
        data.append(row("other", 1))
        await pilot.press("g")
        assert table.row_count == 2
        await pilot.press("q")
    assert app.return_code in (0, None)
