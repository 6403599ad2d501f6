"""Size limits that keep the code walkable: no class over 200 lines, no function over 60.

Run by .ci/run. Counts every line from the first decorator of a `def`/`class` to the end
of its body, docstrings and comments included (a long docstring is still something a
reader has to get through). Prints each offender as PATH:LINE; exits 1 when there is one.
`--verbose` also names the longest class and function.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

LIMITS = {"class": 200, "function": 60}
PACKAGES = ("guardian", "recovery", "config", "tui")


def measured(root: Path) -> Iterator[tuple[str, int, str]]:
    """(kind, lines, "PATH:LINE NAME") for every class and function of the packages."""
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    kind = "class"
                elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    kind = "function"
                else:
                    continue
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                size = (node.end_lineno or node.lineno) - start + 1
                yield kind, size, f"{path.relative_to(root)}:{start} {node.name}"


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    found = list(measured(root))
    problems = [
        f"{where}: {kind} of {size} lines (max {LIMITS[kind]})"
        for kind, size, where in found
        if size > LIMITS[kind]
    ]
    print("\n".join(problems) or "sizes ok", file=sys.stderr if problems else sys.stdout)
    if "--verbose" in sys.argv[1:]:
        for kind in LIMITS:
            size, where = max((s, w) for k, s, w in found if k == kind)
            print(f"longest {kind}: {where} ({size} lines)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
