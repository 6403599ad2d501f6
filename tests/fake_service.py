"""A deterministic service for UI tests: fixed data, a fixed clock, calls recorded."""

from __future__ import annotations

import time
from dataclasses import replace

from guardian.view import (
    CheckpointRow,
    HistoryRow,
    Overview,
    PaneBox,
    PaneComeback,
    PaneRow,
    RestorePreview,
    SessionDetail,
    SessionRow,
    WindowLayout,
)
from recovery.programs import Mode

NOW = 1_795_400_000.0
SOCK = "/tmp/tmux-1000/default"


APP = "/home/ana/src/app"


def window(index: int, name: str, *panes: PaneBox, active: bool = False) -> WindowLayout:
    return WindowLayout(index, name, 200, 50, active, panes)


def pane(index: int, left: int, top: int, width: int, height: int, program: str, cwd: str = APP,
         *, active: bool = False, dead: bool = False) -> PaneBox:  # fmt: skip
    return PaneBox(index, left, top, width, height, program, cwd, active, dead)


# The live session: its editor window has lost the notes pane (vim), its tests window a pane.
LIVE = (
    window(
        0,
        "editor",
        pane(0, 0, 0, 120, 50, "claude", active=True),
        pane(1, 121, 0, 79, 50, "shell"),
        active=True,
    ),
    window(1, "server", pane(0, 0, 0, 200, 50, "python -m http.server", active=True)),
    window(2, "tests", pane(0, 0, 0, 200, 50, "dead", APP + "/tests", active=True, dead=True)),
)
NEWEST = (
    window(
        0,
        "editor",
        pane(0, 0, 0, 120, 50, "claude", active=True),
        pane(1, 121, 0, 79, 24, "shell"),
        pane(2, 121, 25, 79, 25, "vim notes.md", "/home/ana/notes"),
        active=True,
    ),
    LIVE[1],
    window(
        2,
        "tests",
        pane(0, 0, 0, 100, 50, "pytest -x", APP + "/tests", active=True),
        pane(1, 101, 0, 99, 50, "shell", APP + "/tests"),
    ),
)
OLDEST = (
    window(0, "editor", pane(0, 0, 0, 200, 50, "vim src/main.py", active=True), active=True),
    LIVE[1],
    window(2, "tests", pane(0, 0, 0, 200, 50, "shell", APP + "/tests", active=True)),
)


def checkpoint(
    id_: str, ago: float, reason: str, layout: tuple[WindowLayout, ...]
) -> CheckpointRow:
    panes = sum(len(w.panes) for w in layout)
    return CheckpointRow(id_, NOW - ago, True, len(layout), panes, reason, layout=layout)


def night() -> list[HistoryRow]:
    """A night of faults in 'work' (compressed: one each few hours), newest first."""
    h = 3600
    said: list[tuple[float, str, str | None, str, bool | None]] = [
        (11 * h, "verdict", "healthy", "", None),
        (8 * h, "verdict", "frozen", "", None),
        (8 * h - 60, "action", "frozen", "ok: thawed (SIGCONT)", True),
        (8 * h - 61, "verdict", "healthy", "healthy again", None),
        (5 * h, "verdict", "crashed", "", None),
        (5 * h - 5, "action", "crashed", "ok: rebuilt 3 windows", True),
        (5 * h - 6, "verdict", "healthy", "healthy again", None),
        (2 * h, "verdict", "corrupted", "", None),
        (2 * h - 30, "action", "corrupted", "failed: respawn refused", False),
        (90 * 60, "action", "corrupted", "ok: pane respawned", True),
        (90 * 60 - 1, "verdict", "healthy", "healthy again", None),
    ]
    rows_ = [
        HistoryRow(NOW - ago, "work", kind if kind == "verdict" else "repair", out, ok, kind, hl)
        for ago, kind, hl, out, ok in said
    ]
    return sorted(rows_, key=lambda r: -r.at)


def rows() -> list[SessionRow]:
    return [
        SessionRow(
            "default",
            SOCK,
            "work",
            "healthy",
            attached=True,
            windows=3,
            panes=7,
            last_checkpoint_at=NOW - 42,
            last_recovery="10:02:11 ok",
        ),
        SessionRow(
            "default",
            SOCK,
            "build",
            "corrupted",
            ("pane 1.2: make exited with status 2",),
            windows=2,
            panes=3,
            last_checkpoint_at=NOW - 3600,
        ),
        SessionRow(
            "default",
            SOCK,
            "api-server",
            "crashed",
            ("server pid 4242 vanished without a session-closed hook",),
            windows=1,
            panes=2,
            last_checkpoint_at=NOW - 600,
            last_recovery="09:58:40 ok",
        ),
        SessionRow(
            "default",
            SOCK,
            "logs",
            "frozen",
            ("pane 0.0: tail stopped for 9s",),
            windows=1,
            panes=1,
            paused=True,
            last_checkpoint_at=NOW - 90000,
        ),
        SessionRow(
            "default",
            SOCK,
            "flaky",
            "corrupted",
            ("pane 0.1: killed by SIGSEGV",),
            windows=1,
            panes=2,
            given_up="5 recoveries in 300s and still corrupted",
            last_checkpoint_at=NOW - 120,
        ),
        SessionRow("default", SOCK, "notes", "not running", last_checkpoint_at=NOW - 7200),
    ]


def many(count: int) -> list[SessionRow]:
    """`count` sessions: the six above, then healthy ones with fixed names and ages."""
    extra = [
        SessionRow(
            "default",
            SOCK,
            f"project-{n:02d}",
            "healthy",
            attached=n % 3 == 0,
            windows=1 + n % 4,
            panes=2 + n % 5,
            last_checkpoint_at=NOW - 60 * n,
        )
        for n in range(7, count + 1)
    ]
    return (rows() + extra)[:count]


class FakeService:
    interval = 3600.0

    def __init__(self, sessions: int = 6) -> None:
        self.calls: list[tuple[str, str | None]] = []
        self.choices: list[dict[str, Mode]] = []
        self.sessions = many(sessions)
        self.frozen = False
        """Its server does not answer: rows as of NOW - 75 s, and why."""
        self.polls = 0
        self.slow = 0.0
        """Seconds each restore plan takes (a real one reads and verifies a checkpoint)."""

    def start(self) -> None:
        self.calls.append(("start", None))

    def stop(self) -> None:
        self.calls.append(("stop", None))

    async def poll(self) -> Overview:
        self.polls += 1
        guard = "watcher pid 1234 guards, last poll 0.4s ago"
        if not self.frozen:
            return Overview(tuple(self.sessions), guard, at=NOW)
        why = "its server does not answer: timed out after 2.0 s"
        rows = tuple(replace(r, as_of=NOW - 75, stale=why) for r in self.sessions)
        return Overview(rows, guard, ("default: timed out after 2.0 s",), at=NOW)

    def detail(self, row: SessionRow) -> SessionDetail:
        panes = (
            PaneRow(
                "0:editor",
                "0",
                "/home/ana/src/app",
                "claude",
                False,
                True,
                "claude: resumes conversation 8b34a1c2… (exact); shell, then runs claude "
                "--resume 8b34a1c2-5b0e-4a57-9e1b-2f1f0c4d9a10",
            ),
            PaneRow("0:editor", "1", "/home/ana/src/app", "shell", False, False),
            PaneRow("1:server", "0", "/home/ana/src/app", "python -m http.server", False, True),
            PaneRow("2:tests", "0", "/home/ana/src/app/tests", "dead", True, True),
        )
        return SessionDetail(
            row,
            panes,
            ("window 0: 2 panes, checkpoint has 3", "window 2: 1 panes, checkpoint has 2"),
            "20261123T100000.000000Z-ab12",
            LIVE,
        )

    def checkpoints(self, row: SessionRow) -> list[CheckpointRow]:
        return [
            checkpoint("20261123T100000.000000Z-ab12", 42, "watch", NEWEST),
            CheckpointRow(
                "20261123T090000.000000Z-cd34", NOW - 3642, False, error="checksum mismatch"
            ),
            checkpoint("20261122T090000.000000Z-ef56", 90042, "snapshot", OLDEST),
        ]

    def history(self, session: str | None = None, limit: int = 200) -> list[HistoryRow]:
        rows_ = [
            HistoryRow(
                NOW - 30,
                "api-server",
                "wait for pid 4242 to exit; rebuild",
                "ok: restored 1 windows, 2 panes",
                True,
            ),
            HistoryRow(NOW - 40, "api-server", "crashed: server pid 4242 vanished", "", None),
            HistoryRow(NOW - 300, "flaky", "give up", "failed: 5 recoveries in 300s", False),
            HistoryRow(
                NOW - 900,
                "work",
                "checkpoint; respawn pane %3",
                "ok: panes running",
                True,
                "action",
            ),
            *night(),
        ]
        return [r for r in rows_ if session is None or r.session == session]

    def snapshot(self, row: SessionRow | None) -> str:
        self.calls.append(("snapshot", row.name if row else None))
        return "snapshot done"

    def restore_preview(
        self, row: SessionRow, checkpoint_id: str, choices: dict[str, Mode] | None = None
    ) -> RestorePreview:
        time.sleep(self.slow)  # (called in a worker thread, as the real one is)
        self.calls.append(("preview", checkpoint_id))
        self.choices.append(dict(choices or {}))
        chosen = choices or {}
        panes = []
        for where, mode, how in (
            ("0.0", "run", "claude: resumes conversation 8b34a1c2… (exact)"),
            ("0.1", "shell", "shell"),
            ("1.0", "hold", "python -m http.server: your program 'dev', hold"),
        ):
            picked = chosen.get(where, mode)
            panes.append(PaneComeback(where, f"{how} [{picked}]", picked, where != "0.1"))  # type: ignore[arg-type]
        line = f"session '{row.name}' from checkpoint {checkpoint_id}: 3 windows, 7 panes"
        return RestorePreview((line,), tuple(panes))

    def restore(
        self, row: SessionRow, checkpoint_id: str, choices: dict[str, Mode] | None = None
    ) -> str:
        self.calls.append(("restore", checkpoint_id))
        self.choices.append(dict(choices or {}))
        return "restored"

    def recover(self, row: SessionRow) -> str:
        self.calls.append(("recover", row.name))
        return f"recovering '{row.name}' now in this window"

    def forget(self, row: SessionRow) -> str:
        self.calls.append(("forget", row.name))
        return "forgot"

    def toggle_pause(self, row: SessionRow) -> str:
        self.calls.append(("pause", row.name))
        return "paused"
