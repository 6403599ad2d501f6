"""How commands print: `--json` documents, one-line errors, ages a person reads. Every
name, path and command is shown with its control characters visible (`^[`, `\x9b`),
never sent raw to the terminal: a hostile name must not make the output lie."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from typing import Any

from guardian.cli.version import PROG
from recovery.may_run.text import visible

# json escapes C0 itself; DEL and C1 pass through ensure_ascii=False raw.
_RAW_IN_JSON = re.compile("[\x7f-\x9f]")


def emit_json(data: dict[str, Any]) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2)
    sys.stdout.write(_RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")


def say(text: str) -> None:
    """One line for a person, control characters shown."""
    print(visible(text))


def err(message: str) -> None:
    print(f"{PROG}: {visible(message)}", file=sys.stderr)


def age(created: datetime, now: datetime | None = None) -> str:
    seconds = max(0.0, ((now or datetime.now(UTC)) - created).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return f"{int(seconds)}s ago"
