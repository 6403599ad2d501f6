"""What the watcher tells beyond its journal: alerts (`[alerts]`), metrics for Prometheus
(`metrics_file`, `metrics_listen`), and how little free disk it tolerates."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Alerts(BaseModel):
    """`[alerts]`: where each event (a failure, a recovery, a give-up) is told."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    tmux: bool | None = Field(
        None, description="a message on the attached clients (unset: follows `notifications`)"
    )
    desktop: bool = Field(False, description="a desktop notification when a session bus exists")
    command: tuple[str, ...] = Field(
        (), description="argv run for each event, with one JSON object on its stdin"
    )
    command_timeout: float = Field(10.0, gt=0, le=300, description="seconds before it is killed")
    per_minute: int = Field(6, ge=1, le=1000, description="at most this many per session a minute")

    @field_validator("command")
    @classmethod
    def _program_named(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if value and not value[0].strip():
            raise ValueError("the first item must name a program")
        if any("\0" in item for item in value):
            raise ValueError("items must not hold a NUL character")
        return value


def parse_listen(value: str) -> tuple[str, int]:
    """`"127.0.0.1:9101"`, `"[::1]:9101"`, `":9101"` or `"9101"` (loopback) -> (host, port)."""
    text = value.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = "", text
    bracketed = host.startswith("[") and host.endswith("]")
    if bracketed:
        host = host[1:-1]
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError("give HOST:PORT with a port from 1 to 65535, e.g. '127.0.0.1:9101'")
    host = host or "127.0.0.1"
    if ":" in host or bracketed:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            bracketed = False
        if not bracketed:
            raise ValueError("an IPv6 address goes in brackets: '[::1]:9101'")
    if not host.replace(".", "").replace("-", "").replace(":", "").isalnum():
        raise ValueError(f"{host!r} is not a host name or address")
    return host, int(port_text)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_metrics_file(value: Path | None) -> Path | None:
    """`metrics_file`: an absolute path to a file (`~` expanded)."""
    if value is None:
        return None
    path = Path(os.path.expanduser(value))
    if not path.is_absolute():
        raise ValueError("give an absolute path, e.g. /var/lib/node_exporter/tmux_guardian.prom")
    if path.name in ("", ".", ".."):
        raise ValueError("give a file name, not a directory")
    return path


def check_listen(value: str | None) -> str | None:
    """`metrics_listen`, normalized to HOST:PORT (loopback when no host is named)."""
    if value is None:
        return None
    host, port = parse_listen(value)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
