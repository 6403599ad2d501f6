"""The shared context every command works in: settings, the store, the guarded servers."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from pathlib import Path

from config.settings import Settings
from guardian.errors import UsageError
from guardian.tmux.adapter import TmuxAdapter
from guardian.tmux.building import is_building
from guardian.tmux.targets import ServerTarget
from recovery.signing import KeyRing
from recovery.state_dir import check_state_dir
from recovery.store import CheckpointStore

# A unix socket path is at most 108 bytes with its terminating NUL (sun_path): tmux cannot
# listen on a longer one, and a guardian given one would watch nothing.
MAX_SOCKET_PATH = 107


@dataclass(frozen=True)
class Engine:
    settings: Settings
    state_dir: Path
    servers: tuple[ServerTarget, ...]
    keys: KeyRing = field(default_factory=KeyRing, compare=False)
    read_only: bool = False
    """A dry run: nothing on disk changes (bad checkpoints are reported, not moved)."""

    @property
    def store(self) -> CheckpointStore:
        return CheckpointStore(
            self.state_dir, self.settings.retention, self.keys, read_only=self.read_only
        )

    def dry_run(self) -> Engine:
        return replace(self, read_only=True)

    def check_state_dir(self) -> None:
        """The state dir is the person's own (raises UntrustedStoreError otherwise)."""
        check_state_dir(self.state_dir)

    @property
    def scratch_dir(self) -> Path:
        return self.state_dir / "tmp"

    def adapter(self, target: ServerTarget) -> TmuxAdapter:
        return TmuxAdapter(target, timeout=self.settings.tmux_timeout)

    def one_server(self, action: str) -> ServerTarget:
        """The single guarded server an action needs; more than one is a usage error."""
        if len(self.servers) != 1:
            raise UsageError(f"{action} needs one server: name it with -L or -S")
        return self.servers[0]

    def is_ignored(self, session_name: str) -> bool:
        """Not guarded: config `ignore`, or a session still being built (never saved, never
        in the restore set, until it has its real name)."""
        if is_building(session_name):
            return True
        return any(fnmatchcase(session_name, pattern) for pattern in self.settings.ignore)


def resolve_servers(
    explicit: list[tuple[str, str]], settings: Settings
) -> tuple[ServerTarget, ...]:
    """`-L`/`-S` as given (in order), else config `servers`, else the default server."""
    if explicit:
        targets = [
            ServerTarget.named(value) if flag == "L" else ServerTarget.at_path(value)
            for flag, value in explicit
        ]
    elif settings.servers:
        targets = [ServerTarget.parse(spec) for spec in settings.servers]
    else:
        targets = [ServerTarget.default()]
    unique: dict[str, ServerTarget] = {}
    for target in targets:
        size = len(target.socket_path.encode("utf-8", "surrogateescape"))
        if size > MAX_SOCKET_PATH:
            raise UsageError(
                f"socket path {target.socket_path!r} is {size} bytes; "
                f"a unix socket path holds at most {MAX_SOCKET_PATH}"
            )
        unique.setdefault(target.socket_path, target)
    return tuple(unique.values())
