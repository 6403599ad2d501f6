"""The shape of a person's own program strategy (config `[[programs]]`): which command it
matches, how it comes back by default, and an optional command template. How it is used
lives in `recovery.programs`; what may run is still decided by `recovery.may_run`."""

from __future__ import annotations

import string
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Mode = Literal["run", "hold", "shell"]

TEMPLATE_FIELDS = ("argv", "args", "program", "cwd")
"""What a `restore` template may use: the command line as recorded (shell-quoted), its
arguments, the program's name, its working directory."""


class ProgramEntry(BaseModel):
    """`[[programs]]`: `name`, `match` (a glob on the command line, like `npm run *`),
    `mode` (`run`, `hold` or `shell`) and optionally `restore` (`{argv} --resume`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    match: str = Field(min_length=1, max_length=512)
    mode: Mode = "hold"
    restore: str | None = Field(None, min_length=1, max_length=1024)

    @field_validator("restore")
    @classmethod
    def _known_fields(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            fields = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
        except ValueError as exc:
            raise ValueError(f"not a template ({exc})") from None
        for name in fields:
            if name not in TEMPLATE_FIELDS:
                known = ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
                raise ValueError(f"unknown field {{{name}}} (known: {known})")
        return value
