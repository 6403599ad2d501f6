"""What a program strategy's probe knows of the process it looks at: pid, argv, start time,
real working directory, environment (read once, only if asked) and where its home is."""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from guardian.tmux.procfs import children_of, environment_of
from recovery.models import ProgramState


@dataclass
class Process:
    program: ProgramState
    cwd: str
    _env: dict[str, str] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, program: ProgramState) -> Process | None:
        try:
            cwd = os.readlink(f"/proc/{program.pid}/cwd")
        except OSError:
            return None
        return cls(program, cwd.removesuffix(" (deleted)"))

    @property
    def pid(self) -> int:
        return self.program.pid

    @property
    def argv(self) -> tuple[str, ...]:
        return self.program.argv

    @property
    def env(self) -> dict[str, str]:
        if self._env is None:
            self._env = environment_of(self.pid)
        return self._env

    @cached_property
    def home(self) -> Path:
        """The program's HOME (where its tool keeps its state), else the password entry's."""
        home = self.env.get("HOME")
        if home:
            return Path(home)
        try:
            return Path(pwd.getpwuid(os.getuid()).pw_dir)
        except KeyError:
            return Path("/")

    def env_path(self, name: str, default: Path) -> Path:
        value = self.env.get(name)
        return Path(value) if value and Path(value).is_absolute() else default

    def family(self, depth: int = 3) -> list[int]:
        """The process and its descendants (a Node launcher runs the real binary as a child)."""
        found, layer = [self.pid], [self.pid]
        for _ in range(depth):
            layer = [child for pid in layer for child in children_of(pid)]
            found += layer
        return found


def option_value(argv: tuple[str, ...], *names: str) -> str | None:
    """The value of the first of `names` in argv (`--resume X` or `--resume=X`)."""
    for position, word in enumerate(argv):
        for name in names:
            if word == name and position + 1 < len(argv):
                return argv[position + 1]
            if name.startswith("--") and word.startswith(name + "="):
                return word.split("=", 1)[1]
    return None
