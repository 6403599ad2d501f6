"""Gemini CLI's conversation for a running `gemini` (facts: shared/PROGRAMS.md; gemini-cli
0.29+ keeps a project's chats in `~/.gemini/tmp/<short name>/chats`, the name found in
`~/.gemini/projects.json`; earlier in `tmp/<sha256 of the project root>/chats`. Files
`session-<time>-<id8>.json[l]` whose first line (or whole JSON) holds `sessionId` and
`startTime`). No record of which process runs which: the newest session of its project
started since the process started, not claimed by another pane, is a guess."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from guardian.programs.found import Found
from guardian.programs.process import Process, option_value


def gemini_dir(process: Process) -> Path:
    return process.env_path("GEMINI_CLI_HOME", process.home) / ".gemini"


def chat_dirs(base: Path, root: str) -> list[Path]:
    dirs = [base / "tmp" / hashlib.sha256(root.encode()).hexdigest() / "chats"]
    try:
        registry = json.loads((base / "projects.json").read_bytes()[: 1 << 20])
        name = registry.get("projects", {}).get(root)
    except (OSError, ValueError, AttributeError):
        name = None
    if isinstance(name, str) and "/" not in name and name not in ("", ".", ".."):
        dirs.insert(0, base / "tmp" / name / "chats")
    return dirs


def find(process: Process) -> Found:
    found = Found()
    sessions: list[tuple[float, str, str]] = []
    for directory in chat_dirs(gemini_dir(process), process.cwd):
        try:
            entries = [e for e in os.scandir(directory) if e.name.startswith("session-")]
        except OSError:
            continue
        for entry in entries:
            try:
                mtime = entry.stat().st_mtime_ns
            except OSError:
                continue
            head = _session_head(entry.path, mtime)
            if head is not None:
                sessions.append((head[1], head[0], entry.path))
    since = process.program.started_at - 2
    found.files = {sid: path for _, sid, path in sessions}
    found.guesses = [sid for start, sid, _ in sorted(sessions, reverse=True) if start >= since]
    given = option_value(process.argv, "--resume", "-r")
    if given in found.files:
        found.argv = given
    if not (found.argv or found.guesses):
        found.note = "no conversation yet"
    return found


@lru_cache(maxsize=512)
def _session_head(path: str, _mtime_ns: int) -> tuple[str, float] | None:
    """(sessionId, startTime) of a chat file: the first line of a .jsonl, a bounded .json."""
    try:
        with open(path, "rb") as handle:
            data = handle.readline(1 << 16) if path.endswith(".jsonl") else handle.read(1 << 22)
        value = json.loads(data)
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    session, started = value.get("sessionId"), value.get("startTime")
    if not isinstance(session, str) or not isinstance(started, str):
        return None
    try:
        when = datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
    return session, when
