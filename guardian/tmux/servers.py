"""Facts about tmux servers and the machine from /proc: which server listens on a socket
path (even after the file was deleted), a process's state, the binary a server runs, the
boot id."""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

from guardian.tmux.procfs import read_stat


def boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def host_name() -> str:
    return socket.gethostname()


_LISTENING = 0x10000  # __SO_ACCEPTCON in /proc/net/unix


def listening_inodes(socket_path: str) -> set[int]:
    """Inodes of unix sockets listening on `socket_path`. The kernel keeps the bound path
    after the file was deleted, so a server whose socket vanished is still found."""
    inodes: set[int] = set()
    try:
        lines = Path("/proc/net/unix").read_text(errors="replace").splitlines()[1:]
    except OSError:
        return inodes
    for line in lines:
        fields = line.split(None, 7)
        if len(fields) == 8 and fields[7] == socket_path and int(fields[3], 16) & _LISTENING:
            inodes.add(int(fields[6]))
    return inodes


def tmux_server_pids() -> list[int]:
    """Processes named `tmux: server` (their cmdline shows the client's argv: do not trust it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # `tmux: server`, or `<name>: serv…` for a binary under another name
            if (entry / "comm").read_bytes().startswith(b"tmux"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def server_listeners(socket_path: str) -> tuple[int, ...]:
    """Pids of the tmux servers that listen on `socket_path` (two: a split brain)."""
    inodes = listening_inodes(socket_path)
    if not inodes:
        return ()
    wanted = {f"socket:[{inode}]" for inode in inodes}
    found = []
    for pid in tmux_server_pids():
        with contextlib.suppress(OSError):
            fd_dir = Path(f"/proc/{pid}/fd")
            if any(os.readlink(fd) in wanted for fd in fd_dir.iterdir()):
                found.append(pid)
    return tuple(sorted(found))


def process_state(pid: int) -> str | None:
    stat = read_stat(pid)
    return stat.state if stat is not None else None


def foreign_binary(pid: int, installed: str | None) -> str | None:
    """`/proc/PID/exe` when the server runs a binary other than the installed tmux (it was
    upgraded or replaced since the server started); None when they are the same."""
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None
    if exe.endswith(" (deleted)"):
        return f"/proc/{pid}/exe"
    if installed and _is_elf(installed) and os.path.realpath(installed) != os.path.realpath(exe):
        return f"/proc/{pid}/exe"
    return None


def _is_elf(path: str) -> bool:
    """A wrapper script in front of tmux (as Nix and others install it) is not a binary to
    compare a server's with."""
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def process_gone(pid: int) -> bool:
    """The restart race: a pid that is gone or a zombie no longer holds anything."""
    state = process_state(pid)
    return state is None or state in ("Z", "X")
