"""Property tests discard an example with ``assume``, never an early ``return``.

A ``return`` makes hypothesis count the example as passed, so a filter that rejects most
inputs would leave a test that checks almost nothing and still looks green; ``assume``
tells hypothesis, which then draws others and complains when too few get through.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _is_given(func: ast.FunctionDef) -> bool:
    for deco in func.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if isinstance(target, ast.Name) and target.id == "given":
            return True
    return False


def early_returns(source: str) -> list[int]:
    """Lines of ``if ...: return`` (nothing else in the branch) in @given functions."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and _is_given(node):
            for stmt in ast.walk(node):
                if (
                    isinstance(stmt, ast.If)
                    and len(stmt.body) == 1
                    and isinstance(stmt.body[0], ast.Return)
                    and stmt.body[0].value is None
                ):
                    found.append(stmt.lineno)
    return found


def test_the_check_sees_an_early_return() -> None:
    source = (
        "@given(st.integers())\ndef test_x(n):\n    if n < 0:\n        return\n    assert n\n"
        "@given(st.integers())\ndef test_y(n):\n    assume(n >= 0)\n    assert n >= 0\n"
    )
    assert early_returns(source) == [3]


def test_property_tests_use_assume_not_return() -> None:
    found = {
        str(path.relative_to(TESTS)): lines
        for path in sorted(TESTS.rglob("test_*.py"))
        if (lines := early_returns(path.read_text(encoding="utf-8")))
    }
    assert found == {}
