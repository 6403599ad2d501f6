"""What a probe found for one pane: the conversation ids it could belong to, each with how
sure we are, and the files that hold them. Ids are handed out across the panes of a
server most exact first, so no conversation is ever given to two panes."""

from __future__ import annotations

from dataclasses import dataclass, field

from recovery.models import FoundBy


@dataclass
class Found:
    exact: str | None = None
    """The tool's own record of this very process (a per-pid file, an open file)."""
    argv: str | None = None
    """An id given on its command line."""
    guesses: list[str] = field(default_factory=list)
    """Newest first: conversations of its directory since it started."""
    files: dict[str, str] = field(default_factory=dict)
    """id -> the file that holds the conversation (its existence is checked at restore)."""
    note: str = ""
    """Why there is nothing to resume (`no conversation yet`)."""
    file: str | None = None
    """A file the program comes back with that is not a conversation (aider's history)."""
    file_sha256: str | None = None

    def ranked(self) -> list[tuple[str, FoundBy]]:
        ranked: list[tuple[str, FoundBy]] = []
        if self.exact:
            ranked.append((self.exact, "exact"))
        if self.argv and self.argv != self.exact:
            ranked.append((self.argv, "argv"))
        ranked += [(g, "guess") for g in self.guesses if g not in (self.exact, self.argv)]
        return ranked
