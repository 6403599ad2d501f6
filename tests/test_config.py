"""Config: good defaults without a file; every mistake named by key, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, Settings, load_settings


def test_no_file_gives_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "absent.toml")
    assert settings == Settings()
    assert settings.retention.keep_last == 50 and settings.retention.daily_days == 14
    assert settings.checkpoint_interval == 30 and not settings.kill_frozen_server
    # Names only: whether a program may run again is the rule's (recovery.may_run), which
    # also checks the executable and the arguments.
    for program in ("vi", "vim", "nvim", "emacs", "nano", "man", "less", "more", "tail"):
        assert program in settings.allowlist
    for program in ("top", "htop", "watch", "ssh"):
        assert program in settings.allowlist
    assert "rm" not in settings.allowlist


def test_values_are_read(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        'interval = 2.5\nallowlist = ["vim", "btop"]\nignore = ["scratch-*"]\n'
        "[retention]\nkeep_last = 7\n"
    )
    settings = load_settings(path)
    assert settings.interval == 2.5 and settings.retention.keep_last == 7
    assert settings.retention.daily_days == 14
    assert "btop" in settings.allowlist and "less" not in settings.allowlist


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("interval = -1", "key 'interval': Input should be greater than or equal to 0.1 (got -1)"),
        ('interval = "fast"', "key 'interval'"),
        ("retention = { keep_last = 0 }", "key 'retention.keep_last'"),
        ("intervall = 3", "unknown key 'intervall'"),
        ("[retention]\nkeep = 3", "unknown key 'retention.keep'"),
        ("allowlist = [1]", "key 'allowlist.0'"),
        ('allowlist = [""]', "key 'allowlist': Value error, entries must not be empty"),
        ("interval = ", "not valid TOML"),
    ],
)
def test_mistakes_name_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "nope.toml", required=True)


def test_cli_reports_config_error_in_one_line(guardian, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "c.toml"
    path.write_text("[retention]\nkeep_last = -3\n")
    result = guardian("--config", str(path), "checkpoints")
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "retention.keep_last" in result.err and "Traceback" not in result.err
