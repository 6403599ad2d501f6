"""Settings for tmux-guardian: pydantic models, TOML loading, defaults, clear errors."""

from config.loading import ConfigError, load_settings
from config.paths import default_config_path, default_state_dir
from config.settings import Settings

__all__ = ["ConfigError", "Settings", "default_config_path", "default_state_dir", "load_settings"]
