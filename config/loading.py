"""Load config.toml into Settings, turning every mistake into one clear line."""

from __future__ import annotations

import errno
import os
import stat
import tomllib
from pathlib import Path

from pydantic import ValidationError

from config.settings import Settings


class ConfigError(Exception):
    """A config file that cannot be used; the message names the file, the key and why."""


MAX_BYTES = 1024 * 1024
"""A config file is a few lines; a larger one is not a config file."""


def load_settings(path: Path, *, required: bool = False) -> Settings:
    """Read `path`; a missing file gives the defaults unless `required` (an explicit --config).
    Only a regular file is read (a FIFO would hang every command), within a size bound."""
    try:
        raw = _read_regular_file(path)
    except FileNotFoundError:
        if required:
            raise ConfigError(f"{path}: no such file") from None
        return Settings()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a config file") from None
    return settings_from_mapping(data, source=str(path))


def _read_regular_file(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise OSError(errno.EISDIR, "is a directory, not a config file")
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        if info.st_size > MAX_BYTES:
            raise OSError(errno.EFBIG, f"{info.st_size} bytes; a config file is at most 1 MiB")
        return os.read(fd, MAX_BYTES + 1)[:MAX_BYTES]
    finally:
        os.close(fd)


def settings_from_mapping(data: dict[str, object], *, source: str) -> Settings:
    """Validate a parsed mapping; the first problem becomes the error message."""
    try:
        return Settings.model_validate(data)
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply to be a config file") from None
    except ValidationError as exc:
        raise ConfigError(f"{source}: {describe_first_error(exc)}") from None


def describe_first_error(exc: ValidationError) -> str:
    """`key 'retention.keep_last': Input should be greater than or equal to 1 (got 0)`."""
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"unknown key '{key}'"
    message = error["msg"]
    if "input" in error and error["type"] != "missing":
        return f"key '{key}': {message} (got {error['input']!r})"
    return f"key '{key}': {message}"
