"""Editors and REPLs. vim/nvim come back with `-S Session.vim` only when the session file
is the person's own, not writable by others, and (unless their own command line loaded
it) unchanged since it was captured; otherwise with the same files. A REPL comes back
typed at the prompt, not run: what was typed into it is gone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from config.settings import Settings
from recovery.models import ProgramState, Resume
from recovery.programs.base import Comeback, FileCheck, ProgramStrategy, program_word


@dataclass(frozen=True)
class Vim(ProgramStrategy):
    name: ClassVar[str] = "vim"
    command: ClassVar[str] = "vim"
    known_as: ClassVar[frozenset[str]] = frozenset({"vim", "nvim"})
    keeps_positionals: ClassVar[bool] = True
    value_options: ClassVar[frozenset[str]] = frozenset({"-S", "-c", "--cmd", "-u", "-U", "-i"})
    dropped: ClassVar[frozenset[str]] = frozenset({"-S"})

    def come_back(self, resume: Resume, settings: Settings) -> Comeback:
        argv = resume.argv or (self.command,)
        command = argv[0]
        if resume.file is None:
            return Comeback(tuple(argv), f"{program_word(_p(argv))[0]}: the same files")
        # The session file restores the files itself: vim -S FILE, nothing else.
        how = f"{program_word(_p(argv))[0]}: its session, -S {resume.file}"
        return Comeback(
            (command, "-S", resume.file),
            how,
            exempt=(("-S", resume.file),),
            file_check=FileCheck(resume.file, resume.file_sha256, "-S" in argv),
            fallback=self.without_session(resume),
        )

    def without_session(self, resume: Resume) -> Comeback:
        """When the session file cannot be trusted any more: the same files."""
        argv = resume.argv or (self.command,)
        files = self.options(argv)
        return Comeback(
            (argv[0], *files),
            f"{program_word(_p(argv))[0]}: the same files ({resume.file} changed or is not "
            "yours: not loaded)",
            tell=True,
        )


@dataclass(frozen=True)
class Repl(ProgramStrategy):
    """An interactive interpreter with no script: held (typed, Enter starts it)."""

    name: ClassVar[str] = "repl"
    command: ClassVar[str] = ""
    known_as: ClassVar[frozenset[str]] = frozenset(
        {"python", "python3", "ipython", "ipython3", "node", "irb", "psql", "mysql",
         "sqlite3", "ghci", "lua", "R", "bc", "julia"}
    )  # fmt: skip
    captures: ClassVar[bool] = False

    def recognizes(self, program: ProgramState) -> bool:
        name, start = program_word(program)
        bare = name.rstrip("0123456789.")
        arguments = program.argv[start:]
        if name not in self.known_as and bare not in self.known_as:
            return False
        if start == 2:  # `python script.py`: a script, not a REPL
            return False
        return not any(a in ("-c", "-m", "-e", "--eval", "-f", "--file") for a in arguments)

    def come_back(self, resume: Resume, settings: Settings) -> Comeback:
        argv = resume.argv
        name = program_word(_p(argv))[0]
        how = f"{name}: held (a REPL: what was typed into it is gone)"
        return Comeback(tuple(argv), how, mode="hold")


def _p(argv: tuple[str, ...] | list[str]) -> ProgramState:
    return ProgramState(argv=tuple(argv), pid=0, started_at=0)
