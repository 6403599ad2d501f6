"""The shape of a per-program argument rule (config `[[rules]]`); the built-in rules and
their use live in `recovery.may_run`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ArgumentRule(BaseModel):
    """What of a program's arguments is refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    programs: tuple[str, ...] = Field(min_length=1)
    never: str | None = None
    """Never started by itself, whatever its arguments; the value says why."""
    options: tuple[str, ...] = ()
    """Refused options, as given (`-c`) or with a value attached (`-cfoo`, `--cmd=x`)."""
    plus_commands: bool = False
    """`+...` arguments are commands (vim, less, more): refused unless harmless."""
    option_values: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Options refused only with certain values: ssh `-o ProxyCommand=...` (case-insensitive)."""
    remote_command: bool = False
    """A command after the destination (ssh HOST CMD) runs elsewhere: a one-off, held."""
    value_options: tuple[str, ...] = ()
    """Options that take the next argument as their value (to find the destination)."""
    only_values: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Options allowed only with these keys (codex `-c model=x`; `-c notify=[...]` runs a
    program)."""
    bypass: tuple[str, ...] = ()
    """Permission-bypass options of an agent: kept only when the person's command line
    carried them AND `allow_permission_bypass` is on."""
    bypass_values: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Options that bypass permissions with these values (`--permission-mode
    bypassPermissions`)."""
