"""Load config.toml into Settings, turning every mistake into one clear line."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from config.settings import Settings


class ConfigError(Exception):
    """A config file that cannot be used; the message names the file, the key and why."""


def load_settings(path: Path, *, required: bool = False) -> Settings:
    """Read `path`; a missing file gives the defaults unless `required` (an explicit --config)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if required:
            raise ConfigError(f"{path}: no such file") from None
        return Settings()
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return settings_from_mapping(data, source=str(path))


def settings_from_mapping(data: dict[str, object], *, source: str) -> Settings:
    """Validate a parsed mapping; the first problem becomes the error message."""
    try:
        return Settings.model_validate(data)
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
