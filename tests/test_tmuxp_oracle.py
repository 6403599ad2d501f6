"""`tmuxp load` itself as the oracle, in the suite: scripts/compare_tmuxp.py loads each of
these workspaces of tmuxp's own sdist (examples and test fixtures, fetched from PyPI once
into .venv) with `tmuxp load -d` on one private server and with our import + restore on
another, and compares them field by field (sessions, windows, layouts, active window and
pane, directories, the commands each pane received, its program, environment, options).

Vouched for, each must match. Not vouched for, each difference must be a hold the restore
named (a held command, a variable or an option not set). The whole set (53 files) is the
script's to run: these are the files that exercise every key it handles."""

from __future__ import annotations

import importlib.util
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.tmux

ROOT = Path(__file__).resolve().parent.parent
FILES = (
    "examples/pane-shell.yaml",  # shell, window_shell, lines typed into a program
    "examples/session-environment.yaml",  # session, window and pane environment
    "examples/skip-send.yaml",  # enter: false
    "examples/start-directory.yaml",
    "fixtures/workspace/builder/environment_vars.yaml",  # PATH in a session environment
    "fixtures/workspace/builder/session_options.yaml",  # default-shell, default-command
    "fixtures/workspace/builder/global_options.yaml",
    "fixtures/workspace/builder/window_options_after.yaml",
    "fixtures/workspace/builder/window_shell.yaml",
)


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "compare_tmuxp", ROOT / "scripts" / "compare_tmuxp.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["compare_tmuxp"] = module  # (its dataclasses look their module up)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def compare() -> ModuleType:
    module = _script()
    module.ensure_examples(module.DEFAULT_EXAMPLES)
    return module


@pytest.mark.parametrize("vouched", [True, False], ids=["vouched", "unvouched"])
def test_tmuxp_load_is_matched_or_every_difference_named(
    compare: ModuleType, vouched: bool
) -> None:
    examples = compare.DEFAULT_EXAMPLES
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(
            pool.map(lambda f: compare.compare_file(examples / f, examples, vouched), FILES)
        )
    report = compare.report(results)
    assert [r.file for r in results] == list(FILES)
    for result in results:
        if vouched:
            assert result.status == "match", report
        else:
            assert result.status == "match" or result.status.endswith("each a named hold"), report
    if not vouched:  # without vouching nothing runs: these files do differ
        assert sum(r.status != "match" for r in results) >= len(FILES) - 2, report
