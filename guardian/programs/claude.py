"""Claude Code's conversation for a running `claude` (facts: shared/PROGRAMS.md; read in
the CLI 2.1.88 source and the tool's issues, see tests/standins/claude).

- `<config>/sessions/<pid>.json` = `{pid, sessionId, cwd, startedAt (ms), ...}`: written at
  start, updated on `--resume`, NOT on `/clear` (which starts a new transcript).
- `<config>/projects/<slug>/<sessionId>.jsonl`: slug = the real cwd, every character
  outside [A-Za-z0-9] a `-`; created at the first message. `<config>` = $CLAUDE_CONFIG_DIR
  or ~/.claude.
So: the per-pid id is exact unless a newer transcript appeared in the project since (a
/clear): then the newest one no other claude claims is a guess.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from guardian.programs.found import Found
from guardian.programs.process import Process, option_value
from guardian.tmux.procfs import read_stat, start_time

_SLUG = re.compile(r"[^A-Za-z0-9]")
MAX_RECORD = 64 * 1024


def config_dir(process: Process) -> Path:
    return process.env_path("CLAUDE_CONFIG_DIR", process.home / ".claude")


def project_dir(config: Path, cwd: str) -> Path | None:
    slug = _SLUG.sub("-", cwd)
    projects = config / "projects"
    if len(slug) <= 200:
        return projects / slug
    # a long path is cut at 200 characters and given a hash suffix
    try:
        return next(p for p in projects.iterdir() if p.name.startswith(slug[:200]))
    except (OSError, StopIteration):
        return None


def transcripts(project: Path | None) -> dict[str, float]:
    """id -> mtime of each conversation in the project (subagents' are in subdirectories)."""
    found: dict[str, float] = {}
    if project is None:
        return found
    try:
        entries = list(os.scandir(project))
    except OSError:
        return found
    for entry in entries:
        if entry.name.endswith(".jsonl") and entry.is_file(follow_symlinks=False):
            try:
                found[entry.name[:-6]] = entry.stat(follow_symlinks=False).st_mtime
            except OSError:
                continue
    return found


def find(process: Process) -> Found:
    config = config_dir(process)
    project = project_dir(config, process.cwd)
    known = transcripts(project)
    files = {sid: str(project / f"{sid}.jsonl") for sid in known} if project else {}
    records = _live_records(config)
    mine = records.pop(process.pid, None)
    others = set(records.values())
    since = sorted(
        (sid for sid, mtime in known.items() if mtime >= process.program.started_at - 1),
        key=lambda sid: known[sid],
        reverse=True,
    )
    guesses = [sid for sid in since if sid not in others]
    found = Found(files=files, guesses=guesses)
    given = option_value(process.argv, "--resume", "-r", "--session-id")
    if given in known:
        found.argv = given
    if mine in known:
        newer = [sid for sid in guesses if known[sid] > known[mine or ""]]
        if newer:  # a /clear since: the pid file still names the old conversation
            found.guesses = newer
        else:
            found.exact = mine
    if not known or not (found.exact or found.argv or found.guesses):
        found.note = "no conversation yet"
    return found


def _live_records(config: Path) -> dict[int, str]:
    """pid -> sessionId of every claude whose per-pid file is its own (pid alive, started
    when the file says: a reused pid is not the same claude)."""
    found: dict[int, str] = {}
    try:
        entries = list(os.scandir(config / "sessions"))
    except OSError:
        return found
    for entry in entries:
        stem = entry.name.removesuffix(".json")
        if not stem.isdigit() or not entry.name.endswith(".json"):
            continue
        record = _read_record(Path(entry.path))
        if record is None or record.get("pid") != int(stem):
            continue
        stat = read_stat(int(stem))
        started = record.get("startedAt")
        if stat is None or not isinstance(started, (int, float)):
            continue
        if abs(start_time(stat) - started / 1000) > 30:
            continue
        session = record.get("sessionId")
        if isinstance(session, str):
            found[int(stem)] = session
    return found


def _read_record(path: Path) -> dict[str, object] | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_RECORD + 1)
    except OSError:
        return None
    if len(data) > MAX_RECORD:
        return None
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
