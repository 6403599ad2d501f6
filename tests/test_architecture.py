"""The map and the house agree: every module docs/ARCHITECTURE.md names exists, and every
subpackage says in one line what it is for."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAMED = re.compile(r"`((?:guardian|recovery|config|tui)(?:\.[A-Za-z_]+)+)`")


def _exists(dotted: str) -> bool:
    """A module, or an attribute of one (`guardian.view.engine_service.EngineService`)."""
    module, _, attribute = dotted.rpartition(".")
    if not attribute[0].isupper() and importlib.util.find_spec(dotted) is not None:
        return True
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return False
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    defined = {
        getattr(node, "name", None)
        for node in tree.body
        if isinstance(node, ast.ClassDef | ast.FunctionDef)
    }
    return attribute in defined


def test_every_module_the_map_names_exists() -> None:
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    named = sorted(set(NAMED.findall(text)))
    assert len(named) > 40
    missing = [name for name in named if not _exists(name)]
    assert missing == []


def test_the_map_names_every_guardian_subpackage() -> None:
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    subpackages = [p.parent.name for p in (ROOT / "guardian").glob("*/__init__.py")]
    assert sorted(subpackages) == [
        "cli", "install", "operations", "programs", "tmux", "view", "watch"
    ]  # fmt: skip
    for name in subpackages:
        assert f"`guardian.{name}`" in text


def test_every_package_says_what_it_is_for() -> None:
    for init in ROOT.glob("*/**/__init__.py"):
        if init.parts[len(ROOT.parts)] not in ("guardian", "recovery", "config", "tui"):
            continue
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert docstring, f"{init.relative_to(ROOT)} has no docstring"
