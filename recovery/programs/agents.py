"""AI coding agents, resumed into their own conversation (facts: shared/PROGRAMS.md and
the tools' sources). Each knows its resume command; finding the conversation a pane ran is
the adapter's (`guardian.programs`), most exact source first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from config.settings import Settings
from recovery.models import Resume
from recovery.programs.base import Comeback, ProgramStrategy, short_id


@dataclass(frozen=True)
class Agent(ProgramStrategy):
    """An agent whose conversation has an id: `COMMAND <resume...> ID <options>`."""

    resume_words: ClassVar[tuple[str, ...]]
    """What goes before the id: `--resume` for claude, `resume` for codex."""

    def recorded_argv(self, argv: Sequence[str]) -> tuple[str, ...]:
        """`claude --resume OLD -p "prompt" --model opus` is recorded `claude --model opus`:
        no old id (the capture says which one), no prompt sent twice."""
        return (self.command, *self.options(argv))

    def come_back(self, resume: Resume, settings: Settings) -> Comeback:
        options = self.options(resume.argv) if resume.argv else []
        if resume.session_id is None:
            argv, notes = self.with_bypass_rule((self.command, *options), settings)
            why = resume.note or "no conversation to resume"
            how = f"{self.name}: starts anew ({why})"
            return Comeback(argv, how, resume.cwd or None, notes=notes)
        argv, notes = self.with_bypass_rule(
            (self.command, *self.resume_words, resume.session_id, *options), settings
        )
        how = f"{self.name}: resumes conversation {short_id(resume.session_id)} ({resume.found_by})"
        guess = resume.found_by == "guess"
        if guess:
            how += ", the newest of its directory no other pane had"
        return Comeback(argv, how, resume.cwd or None, notes=notes, tell=guess)


@dataclass(frozen=True)
class Claude(Agent):
    """Claude Code: `claude --resume ID`; looks for ID in its directory's project only."""

    name: ClassVar[str] = "claude"
    command: ClassVar[str] = "claude"
    known_as: ClassVar[frozenset[str]] = frozenset({"claude"})
    resume_words: ClassVar[tuple[str, ...]] = ("--resume",)
    value_options: ClassVar[frozenset[str]] = frozenset(
        {"--model", "--permission-mode", "--settings", "--mcp-config", "--add-dir",
         "--allowedTools", "--allowed-tools", "--disallowedTools", "--disallowed-tools",
         "--append-system-prompt", "--system-prompt", "--system-prompt-file",
         "--append-system-prompt-file", "-n", "--name", "--agents", "--agent", "--plugin-dir",
         "--output-format", "--input-format", "--fallback-model", "--betas", "--max-turns",
         "--resume", "-r", "--session-id"}
    )  # fmt: skip
    dropped: ClassVar[frozenset[str]] = frozenset(
        {"--resume", "-r", "--session-id", "--continue", "-c", "--fork-session", "-p",
         "--print", "-n", "--name"}
    )  # fmt: skip


@dataclass(frozen=True)
class Codex(Agent):
    """Codex CLI: `codex resume ID`; the npm `codex` is a Node launcher of the binary."""

    name: ClassVar[str] = "codex"
    command: ClassVar[str] = "codex"
    known_as: ClassVar[frozenset[str]] = frozenset({"codex"})
    resume_words: ClassVar[tuple[str, ...]] = ("resume",)
    value_options: ClassVar[frozenset[str]] = frozenset(
        {"-c", "--config", "-m", "--model", "-p", "--profile", "-s", "--sandbox", "-a",
         "--ask-for-approval", "-C", "--cd", "-i", "--image", "--enable", "--disable",
         "--local-provider"}
    )  # fmt: skip
    dropped: ClassVar[frozenset[str]] = frozenset(
        {"--last", "--all", "-C", "--cd", "-i", "--image"}
    )


@dataclass(frozen=True)
class OpenCode(Agent):
    """OpenCode: `opencode --session ses_...`."""

    name: ClassVar[str] = "opencode"
    command: ClassVar[str] = "opencode"
    known_as: ClassVar[frozenset[str]] = frozenset({"opencode"})
    resume_words: ClassVar[tuple[str, ...]] = ("--session",)
    value_options: ClassVar[frozenset[str]] = frozenset(
        {"-s", "--session", "-m", "--model", "--agent", "--prompt", "--port", "--hostname",
         "--log-level"}
    )  # fmt: skip
    dropped: ClassVar[frozenset[str]] = frozenset(
        {"-s", "--session", "-c", "--continue", "--fork", "--prompt"}
    )


@dataclass(frozen=True)
class Gemini(Agent):
    """Gemini CLI: `gemini --resume ID`, searched in its project's chats only."""

    name: ClassVar[str] = "gemini"
    command: ClassVar[str] = "gemini"
    known_as: ClassVar[frozenset[str]] = frozenset({"gemini"})
    resume_words: ClassVar[tuple[str, ...]] = ("--resume",)
    value_options: ClassVar[frozenset[str]] = frozenset(
        {"-m", "--model", "-r", "--resume", "--session-id", "--approval-mode", "-p", "--prompt",
         "-i", "--prompt-interactive", "-e", "--extensions", "--include-directories",
         "--output-format"}
    )  # fmt: skip
    dropped: ClassVar[frozenset[str]] = frozenset(
        {"-r", "--resume", "--session-id", "-p", "--prompt", "-i", "--prompt-interactive",
         "--list-sessions"}
    )  # fmt: skip


@dataclass(frozen=True)
class Aider(ProgramStrategy):
    """Aider keeps no conversation id: the same command in the same repository, with its
    chat history read back (`--restore-chat-history`)."""

    name: ClassVar[str] = "aider"
    command: ClassVar[str] = "aider"
    known_as: ClassVar[frozenset[str]] = frozenset({"aider"})
    keeps_positionals: ClassVar[bool] = True  # the files added to the chat
    value_options: ClassVar[frozenset[str]] = frozenset(
        {"--model", "--weak-model", "--editor-model", "--edit-format", "--chat-history-file",
         "--input-history-file", "--read", "--file", "--map-tokens", "--env-file",
         "--config", "-c", "--api-key", "--openai-api-key", "--anthropic-api-key",
         "--message", "-m", "--message-file", "-f", "--test-cmd", "--lint-cmd", "--load",
         "--notifications-command", "--editor", "--set-env", "--apply"}
    )  # fmt: skip
    dropped: ClassVar[frozenset[str]] = frozenset({"--restore-chat-history"})

    def come_back(self, resume: Resume, settings: Settings) -> Comeback:
        options = self.options(resume.argv) if resume.argv else []
        history = resume.file is not None
        argv, notes = self.with_bypass_rule(
            (self.command, *options, *(["--restore-chat-history"] if history else [])), settings
        )
        how = (
            "aider: the same files, its chat history read back"
            if history
            else ("aider: the same files (no chat history found)")
        )
        return Comeback(argv, how, resume.cwd or None, notes=notes)
