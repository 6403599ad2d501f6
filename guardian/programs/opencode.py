"""OpenCode's conversation for a running `opencode` (facts: shared/PROGRAMS.md; OpenCode
1.2+ keeps sessions in SQLite `$XDG_DATA_HOME/opencode/opencode.db`, table `session(id,
directory, time_updated ms, ...)`; earlier, JSON files `storage/session/<project>/<id>.json`).
`-s ID` on its command line says which; otherwise the newest session of its directory
updated since it started is a guess. The database is opened read-only."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from guardian.programs.found import Found
from guardian.programs.process import Process, option_value


def database(process: Process) -> Path:
    data = process.env_path("XDG_DATA_HOME", process.home / ".local" / "share") / "opencode"
    return process.env_path("OPENCODE_DB", data / "opencode.db")


def find(process: Process) -> Found:
    found = Found()
    path = database(process)
    given = option_value(process.argv, "--session", "-s")
    since_ms = int((process.program.started_at - 1) * 1000)
    rows = _sessions(path, process.cwd, since_ms)
    rows += _legacy_sessions(path.parent / "storage" / "session", process.cwd, since_ms)
    found.guesses = [sid for sid, _ in sorted(rows, key=lambda r: r[1], reverse=True)]
    found.files = {sid: str(path) for sid, _ in rows}
    if given:
        found.argv = given
        found.files.setdefault(given, str(path))
    if not (found.argv or found.guesses):
        found.note = "no conversation yet"
    return found


def session_exists(path: Path, session_id: str) -> bool | None:
    try:
        with _read_only(path) as db:
            row = db.execute("SELECT 1 FROM session WHERE id = ?", (session_id,)).fetchone()
    except sqlite3.Error:
        return None
    return row is not None


def _sessions(path: Path, cwd: str, since_ms: int) -> list[tuple[str, int]]:
    if not path.is_file():
        return []
    query = "SELECT id, time_updated FROM session WHERE directory = ? AND time_updated >= ?"
    try:
        with _read_only(path) as db:
            return [(str(i), int(t)) for i, t in db.execute(query, (cwd, since_ms)).fetchall()]
    except sqlite3.Error:
        return []


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.2)


def _legacy_sessions(root: Path, cwd: str, since_ms: int) -> list[tuple[str, int]]:
    found = []
    try:
        projects = list(os.scandir(root))
    except OSError:
        return []
    for project in projects:
        try:
            files = [e for e in os.scandir(project.path) if e.name.endswith(".json")]
        except OSError:
            continue
        for entry in files:
            info = _small_json(Path(entry.path)) or {}
            time = info.get("time")
            updated = time.get("updated") if isinstance(time, dict) else None
            mine = info.get("directory") == cwd
            if mine and isinstance(updated, int) and updated >= since_ms:
                found.append((str(info.get("id")), updated))
    return found


def _small_json(path: Path, limit: int = 256 * 1024) -> dict[str, object] | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
        value = json.loads(data) if len(data) <= limit else None
    except (OSError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
