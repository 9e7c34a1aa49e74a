"""The layout DESIGN.md fixes, held against the code: imports run one way.

core <- governance, graph <- ivs, sandbox. governance and graph never import each other;
no product package (core, governance, graph) imports sandbox, moto or pytest, at any
depth; ivs imports sandbox and moto only inside the function that needs them (``ivs demo``
runs without them installed, and says what to install). Tables and progress bars (rich,
typer) live with the commands in ivs, not in the analysis or the audit.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "governance", "graph", "ivs", "sandbox")
OURS = set(PACKAGES)
#: What each package may import of ours (itself included).
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "governance": {"core", "governance"},
    "graph": {"core", "graph"},
    "ivs": {"core", "governance", "graph", "ivs", "sandbox"},
    "sandbox": {"core", "governance", "graph", "sandbox"},
}
#: Never imported by a product package; by ivs only inside a function.
STAND_IN = {"sandbox", "moto", "pytest"}
#: Terminal output (tables, progress bars) belongs to the commands, in ivs.
TERMINAL = {"rich", "typer"}


def _imports(tree: ast.Module) -> list[tuple[str, int, bool]]:
    """(top-level module name, line, imported when the module loads) for every import."""
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, at_load: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend((a.name.split(".")[0], child.lineno, at_load) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level == 0 and child.module:
                    found.append((child.module.split(".")[0], child.lineno, at_load))
            else:
                visit(child, at_load and not _deferred(child))

    visit(tree, True)
    return found


def _deferred(node: ast.AST) -> bool:
    """A function body, or an ``if TYPE_CHECKING:`` block: not run when the module loads."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        return True
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _modules() -> list[tuple[str, Path]]:
    return [(pkg, path) for pkg in PACKAGES for path in sorted((REPO / pkg).rglob("*.py"))]


@pytest.mark.parametrize(
    ("package", "path"), _modules(), ids=[str(p.relative_to(REPO)) for _, p in _modules()]
)
def test_imports_run_one_way(package: str, path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    wrong = []
    for name, line, at_load in _imports(tree):
        where = f"{path.relative_to(REPO)}:{line} imports {name}"
        if name in OURS and name not in ALLOWED[package]:
            wrong.append(where)
        elif name in STAND_IN and package != "sandbox" and (package != "ivs" or at_load):
            wrong.append(where + (" when it loads" if package == "ivs" else ""))
        elif name in TERMINAL and package in ("core", "governance", "graph"):
            wrong.append(where + " (terminal output is the commands' job)")
    assert not wrong, "; ".join(wrong)


def test_every_package_is_checked() -> None:
    on_disk = {p.parent.name for p in REPO.glob("*/__init__.py")} - {"tests", "bench"}
    assert on_disk == OURS


def test_the_check_sees_nested_and_type_checking_imports() -> None:
    tree = ast.parse(
        "import json\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from graph import model\n"
        "def f():\n    import moto\n"
        "class C:\n    from core import spec\n"
    )
    assert _imports(tree) == [
        ("json", 1, True),
        ("typing", 2, True),
        ("graph", 4, False),
        ("moto", 6, False),
        ("core", 8, True),
    ]
