"""How commands print: `--json` documents, one-line errors, ages a person reads."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

PROG = "tmux-guardian"


def emit_json(data: dict[str, Any]) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def err(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def age(created: datetime, now: datetime | None = None) -> str:
    seconds = max(0.0, ((now or datetime.now(UTC)) - created).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return f"{int(seconds)}s ago"
