"""The settings model: every config key, its default and its constraints."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from config.outputs import Alerts, check_listen, check_metrics_file
from config.programs import ProgramEntry
from config.rules import ArgumentRule

DEFAULT_ALLOWLIST: tuple[str, ...] = (
    "vi",
    "vim",
    "nvim",
    "view",
    "emacs",
    "nano",
    "man",
    "less",
    "more",
    "tail",
    "top",
    "htop",
    "btop",
    "watch",
    "ssh",
    "mosh",
    # AI coding agents: resumed into their own conversation (recovery.programs)
    "claude",
    "codex",
    "opencode",
    "gemini",
    "aider",
)


class _Strict(BaseModel):
    # Every number finite: `inf` or `nan` anywhere would make a timer never fire or a
    # comparison never hold.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Retention(_Strict):
    """How many checkpoints survive pruning."""

    keep_last: int = Field(50, ge=1, le=10_000, description="newest checkpoints kept per session")
    daily_days: int = Field(
        14, ge=0, le=3650, description="one checkpoint per day kept for this many days"
    )


class Backoff(_Strict):
    """Delay between recovery attempts of one session: geometric, with jitter, capped."""

    initial: float = Field(1.0, gt=0, le=3600)
    factor: float = Field(2.0, ge=1, le=10)
    max: float = Field(60.0, gt=0, le=86_400)
    jitter: float = Field(0.1, ge=0, le=1)


class Burst(_Strict):
    """At most `max` recoveries per `window` seconds per session, whatever their outcome."""

    max: int = Field(5, ge=1, le=1000)
    window: float = Field(300.0, gt=0, le=86_400)


class Settings(_Strict):
    """Every key of config.toml; all optional."""

    servers: tuple[str, ...] = Field(
        (), description="servers to guard: a socket name (like -L) or a path (like -S)"
    )
    ignore: tuple[str, ...] = Field((), description="fnmatch patterns of session names to skip")
    interval: float = Field(
        5.0,
        ge=0.1,
        le=3600,
        description="seconds between polls: the safety net for what sends no event (a "
        "stopped server, XOFF); a server's or a pane process's end is heard at once",
    )
    events: bool = Field(
        True,
        description="hear a server's or a pane's end at once (a read-only control client, "
        "which `tmux ls` shows as attached, and pidfds); false: polling alone",
    )
    checkpoint_interval: float = Field(30.0, ge=0, le=86_400)
    retention: Retention = Retention()
    allowlist: tuple[str, ...] = DEFAULT_ALLOWLIST
    rules: tuple[ArgumentRule, ...] = Field(
        (), description="more argument rules, added to the built-in ones (`[[rules]]`)"
    )
    environment: tuple[str, ...] = Field(
        ("LANG", "LANGUAGE", "LC_*", "TZ", "TERM", "COLORTERM", "NO_COLOR", "LESS", "MORE"),
        description="environment variable names that may come back with a program",
    )
    type_unlisted_commands: bool = True
    allow_permission_bypass: bool = Field(
        False,
        description="an agent's permission-bypass flag (--dangerously-skip-permissions, "
        "--yolo, ...) comes back, if the person's own command line carried it",
    )
    programs: tuple[ProgramEntry, ...] = Field(
        (), description="your own program strategies (`[[programs]]`), matched first"
    )
    type_wait: float = Field(
        10.0, ge=0, le=120, description="how long a restore waits for a shell's prompt to type"
    )
    capture_contents: bool = False
    capture_lines: int = Field(2000, ge=0, le=100_000)
    secret_programs: tuple[str, ...] = Field(
        ("pass", "gpg", "gpg2", "gpg-agent", "pinentry", "vault", "ssh-keygen", "ssh-add",
         "age", "op", "bw", "keepassxc-cli", "passwd", "sudo", "su", "kinit", "htpasswd"),
        description="panes running these programs are never captured (capture_contents)",
    )  # fmt: skip
    restore_on_start: bool = True
    ui_theme: Literal["dark", "light", "terminal-dark", "terminal-light"] = Field(
        "dark", description="the UI's colours; terminal-*: your terminal's own palette (ANSI)"
    )
    kill_frozen_server: bool = False
    grace_period: float = Field(10.0, ge=0, le=3600)
    freeze_grace: float = Field(2.0, ge=0, le=3600, description="how long a pane may stay stopped")
    backoff: Backoff = Backoff()
    burst: Burst = Burst()
    notifications: bool = True
    alerts: Alerts = Alerts()
    metrics_file: Path | None = Field(
        None, description="a node_exporter textfile (`.prom`), written atomically each poll"
    )
    metrics_listen: str | None = Field(
        None, description="HOST:PORT of an HTTP metrics endpoint (loopback unless named)"
    )
    min_free_mb: float = Field(
        50.0, ge=0, le=1_000_000, description="below this much free space the state dir thins"
    )
    min_free_fraction: float = Field(
        0.0, ge=0, lt=1, description="... or below this fraction of its file system"
    )
    tmux_timeout: float = Field(2.0, ge=0.1, le=60)

    @field_validator("programs")
    @classmethod
    def _unique_program_names(cls, value: tuple[ProgramEntry, ...]) -> tuple[ProgramEntry, ...]:
        names = [entry.name for entry in value]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"two entries named {twice[0]!r}")
        return value

    @property
    def tmux_messages(self) -> bool:
        """`[alerts] tmux` if set, else the older `notifications` key."""
        return self.notifications if self.alerts.tmux is None else self.alerts.tmux

    @field_validator("metrics_file")
    @classmethod
    def _metrics_file(cls, value: Path | None) -> Path | None:
        return check_metrics_file(value)

    @field_validator("metrics_listen")
    @classmethod
    def _metrics_listen(cls, value: str | None) -> str | None:
        return check_listen(value)

    @field_validator("servers", "ignore", "allowlist", "environment")
    @classmethod
    def _no_empty_strings(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            if not item.strip():
                raise ValueError("entries must not be empty")
        return value
