"""The person's own signing key: HMAC-SHA256 over every checkpoint tells their checkpoints
from anyone else's (a checksum alone is recomputed by whoever edits the file).

One key per user, created once (`O_EXCL`, mode 0600) at ONE fixed path derived from the
home directory in the password database — not from `$HOME`, `XDG_*` or `--config` — so a
systemd unit and a shell always find the same key. It lives outside the state dir, so a
state dir copied elsewhere carries no key. `TMUX_GUARDIAN_KEY_DIR` moves it; only tests
(which must never write into a real home) set it.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import os
import pwd
import secrets
import stat
from pathlib import Path

from recovery.files import ensure_private_dir

KEY_DIR_ENV = "TMUX_GUARDIAN_KEY_DIR"
KEY_BYTES = 32


class SigningKeyError(Exception):
    """The key exists but must not be used (another owner, readable by others, a link)."""


def key_path() -> Path:
    override = os.environ.get(KEY_DIR_ENV)
    if override:
        return Path(override) / "signing.key"
    home = pwd.getpwuid(os.getuid()).pw_dir
    return Path(home) / ".local" / "share" / "tmux-guardian" / "signing.key"


class SigningKey:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def sign(self, message: bytes) -> str:
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def verifies(self, message: bytes, mac: str) -> bool:
        expected = self.sign(message).encode("ascii")
        return hmac.compare_digest(expected, mac.encode("utf-8", "surrogateescape"))


class KeyRing:
    """Finds the key when needed: reading never creates it; the first write does."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or key_path()
        self._key: SigningKey | None = None

    def for_reading(self) -> SigningKey | None:
        if self._key is None:
            self._key = _load(self.path)
        return self._key

    def for_writing(self) -> SigningKey:
        key = self.for_reading()
        if key is None:
            key = _create(self.path)
            self._key = key
        return key


def _load(path: Path) -> SigningKey | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            why = "it is a symbolic link"
            raise SigningKeyError(f"refusing the signing key {path}: {why}") from None
        raise SigningKeyError(f"cannot read the signing key {path}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SigningKeyError(f"refusing the signing key {path}: not a regular file")
        if info.st_uid != os.geteuid():
            raise SigningKeyError(f"refusing the signing key {path}: owned by uid {info.st_uid}")
        if info.st_mode & 0o077:
            raise SigningKeyError(
                f"refusing the signing key {path}: others may read it "
                f"(mode {stat.S_IMODE(info.st_mode):04o}); chmod 600 it"
            )
        secret = os.read(fd, 1024)
    finally:
        os.close(fd)
    if len(secret) < KEY_BYTES:
        raise SigningKeyError(f"refusing the signing key {path}: too short ({len(secret)} bytes)")
    return SigningKey(secret)


def _create(path: Path) -> SigningKey:
    ensure_private_dir(path.parent)
    secret = secrets.token_bytes(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        key = _load(path)  # another process made it first
        assert key is not None
        return key
    try:
        os.write(fd, secret)
        os.fsync(fd)
    finally:
        os.close(fd)
    return SigningKey(secret)
