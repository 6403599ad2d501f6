"""Where config and state live: XDG dirs via platformdirs, overridable by environment."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "tmux-guardian"
STATE_DIR_ENV = "TMUX_GUARDIAN_STATE_DIR"
CONFIG_ENV = "TMUX_GUARDIAN_CONFIG"


def default_state_dir() -> Path:
    """`$TMUX_GUARDIAN_STATE_DIR`, else `~/.local/state/tmux-guardian`."""
    override = os.environ.get(STATE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def default_config_path() -> Path:
    """`$TMUX_GUARDIAN_CONFIG`, else `~/.config/tmux-guardian/config.toml`."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"
