"""The command line is a client of llmkit's public API: every module in ``llmkit/cli``
imports only names a package lists in ``__all__`` (or its public submodules), never a
``llmkit.<package>._private`` module. The cli's own modules may import each other."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parents[2] / "llmkit" / "cli"
MODULES = sorted(p.stem for p in CLI.glob("*.py"))


def _is_private(module: str) -> bool:
    return any(part.startswith("_") for part in module.split(".")[1:])


def _public_names(module: str) -> set[str]:
    return set(getattr(importlib.import_module(module), "__all__", ()))


def _is_public_submodule(module: str, name: str) -> bool:
    return not name.startswith("_") and importlib.util.find_spec(f"{module}.{name}") is not None


def violations(path: Path) -> list[str]:
    """Every import of a private llmkit module or of a name outside a package's ``__all__``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [(node.module, alias.name) for alias in node.names]
        else:
            continue
        for module, name in targets:
            if module != "llmkit" and not module.startswith("llmkit."):
                continue  # third-party and stdlib
            if module == "llmkit.cli" or module.startswith("llmkit.cli."):
                continue  # the cli's own modules
            where = f"line {node.lineno}"
            if _is_private(module):
                found.append(f"{where}: private module {module}")
                break  # once per import statement
            public = name is None or name in _public_names(module)
            if not public and not _is_public_submodule(module, name):  # type: ignore[arg-type]
                found.append(f"{where}: {module}.{name} is not in {module}.__all__")
    return found


def test_the_check_sees_private_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import json\n"
        "from llmkit.cli._common import console\n"
        "from llmkit import LLMKitError, prompts\n"
        "from llmkit.engine import start_engine\n"
        "def f():\n"
        "    from llmkit._exceptions import ConfigError\n"
        "    from llmkit.llm import _log\n"
        "    import llmkit.bench._report\n"
        "    from llmkit.structured import example_value_not_public\n",
        encoding="utf-8",
    )
    assert violations(sample) == [
        "line 6: private module llmkit._exceptions",
        "line 7: llmkit.llm._log is not in llmkit.llm.__all__",
        "line 8: private module llmkit.bench._report",
        "line 9: llmkit.structured.example_value_not_public is not in llmkit.structured.__all__",
    ]


@pytest.mark.parametrize("module", MODULES)
def test_cli_module_imports_only_public_names(module: str) -> None:
    found = violations(CLI / f"{module}.py")
    assert found == [], f"llmkit/cli/{module}.py: {found}"
