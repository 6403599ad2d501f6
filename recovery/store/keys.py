"""Names on disk: checkpoint ids (sortable by time, unique below one second) and the
directory keys of servers and sessions (any name, quotes, `/` or `..` included, encoded
and bounded)."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, unquote

_ID_RE = re.compile(r"^(\d{8}T\d{6}\.\d{6})Z-[0-9a-f]{4}$")


def new_checkpoint_id(now: datetime) -> str:
    """Sortable by time, unique below one second: `20261123T041221.123456Z-a1b2`."""
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%S.%f}Z-{secrets.token_hex(2)}"


def parse_checkpoint_id(checkpoint_id: str) -> datetime | None:
    match = _ID_RE.fullmatch(checkpoint_id)
    if not match:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%dT%H%M%S.%f").replace(tzinfo=UTC)
    except ValueError:  # month 13, second 61: shaped like an id, but no time
        return None


def server_key(socket_path: str) -> str:
    """A directory name for a server: readable socket name plus a digest of the full path."""
    base = re.sub(r"[^A-Za-z0-9_-]", "_", Path(socket_path).name)[:40] or "server"
    return f"{base}-{hashlib.sha256(socket_path.encode()).hexdigest()[:10]}"


def session_key(name: str) -> str:
    """A directory name for any session name (quotes, `/`, `..`, unicode): encoded, bounded."""
    encoded = quote(name, safe="-_").replace(".", "%2E")
    if len(encoded) > 96:
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
        encoded = f"{encoded[:72]}~{digest}"
    return f"s-{encoded}"


def session_name_from_key(key: str) -> str | None:
    """The session name a directory holds, when its key was not shortened with a digest."""
    if not key.startswith("s-") or "~" in key:
        return None
    return unquote(key[2:])
