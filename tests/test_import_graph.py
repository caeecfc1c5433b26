"""The import graph points one way.

- No cycle, counting imports inside functions too (a deferred import that only dodges a
  cycle is a cycle); imports under ``if TYPE_CHECKING:`` are types, not edges.
- No module imports another subpackage's private module or name
  (``llmkit.llm._log`` from ``annotate``); the floor modules are the shared exception.
- The floor modules import nothing of llmkit but the exceptions.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "llmkit"
FLOOR = {
    "llmkit._exceptions",
    "llmkit._home",
    "llmkit._jsonl",
    "llmkit._lazy",
    "llmkit._migrate",
    "llmkit._observe",
    "llmkit._redact",
    "llmkit._sse",
    "llmkit._tokens",
    "llmkit._version",
    "llmkit.extras",
}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[tuple[int, str, str | None]]:
    """(line, module, name) of every llmkit import outside ``if TYPE_CHECKING``."""
    found: list[tuple[int, str, str | None]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.extend((child.lineno, a.name, None) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.extend((child.lineno, child.module, a.name) for a in child.names)
            visit(child)

    visit(tree)
    return [(line, m, n) for line, m, n in found if m == "llmkit" or m.startswith("llmkit.")]


def import_graph(root: Path) -> dict[str, dict[str, int]]:
    """module -> {imported llmkit module: first line}, for every module under ``root``."""
    paths = {_module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    graph: dict[str, dict[str, int]] = {}
    for module, path in paths.items():
        edges: dict[str, int] = {}
        for line, target, name in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            sub = f"{target}.{name}"
            to = sub if sub in paths else target
            if to in paths and to != module:
                edges.setdefault(to, line)
        graph[module] = edges
    return graph


def find_cycle(graph: dict[str, dict[str, int]]) -> list[str]:
    """One cycle as a path ``[a, b, ..., a]``, or ``[]``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := walk(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (cycle := walk(node)):
            return cycle
    return []


def _subpackage(module: str) -> str:
    return ".".join(module.split(".")[:2])


def private_imports(root: Path) -> list[str]:
    """Imports of another subpackage's private module or name (floor modules allowed)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        me = _module_name(path, root)
        for line, module, name in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            full = module if name is None else f"{module}.{name}"
            if module in FLOOR or full in FLOOR or full == "llmkit.__version__":
                continue
            if module != "llmkit" and _subpackage(full) == _subpackage(me):
                continue  # inside one subpackage, private modules are the point
            if any(part.startswith("_") for part in full.split(".")[1:]):
                found.append(f"{me}:{line}: {full}")
    return found


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        target = root / "llmkit" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root / "llmkit"


def test_the_checks_see_deferred_cycles_and_private_imports(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "__init__.py": "",
            "a/__init__.py": "",
            "a/_one.py": "from llmkit.a._two import x\n",
            "a/_two.py": "def f():\n    from llmkit.a._one import y\n",
            "b/__init__.py": "",
            "b/_three.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from llmkit.a._one import y\nfrom llmkit.a._two import x\n",
        },
    )
    graph = import_graph(root)
    assert find_cycle(graph) == ["llmkit.a._one", "llmkit.a._two", "llmkit.a._one"]
    assert "llmkit.a._one" not in graph["llmkit.b._three"]  # TYPE_CHECKING is no edge
    assert private_imports(root) == ["llmkit.b._three:4: llmkit.a._two.x"]


@functools.cache
def _package_graph() -> dict[str, dict[str, int]]:
    return import_graph(PACKAGE)


def test_the_import_graph_has_no_cycle() -> None:
    assert find_cycle(_package_graph()) == []


def test_no_private_import_across_subpackages() -> None:
    assert private_imports(PACKAGE) == []


@pytest.mark.parametrize("floor", sorted(FLOOR))
def test_floor_modules_import_only_the_exceptions(floor: str) -> None:
    assert set(_package_graph()[floor]) <= {"llmkit._exceptions"}
