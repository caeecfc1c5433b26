"""The public facade of llmkit.bench, and the shape of its private modules."""

from __future__ import annotations

import importlib
from pathlib import Path

import llmkit.bench

PKG = Path(llmkit.bench.__file__).parent


def _isort_key(name: str) -> tuple[int, str]:
    # ruff's RUF022 order: CONSTANTS, then Classes, then functions
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_all_is_sorted_and_complete() -> None:
    names = llmkit.bench.__all__
    assert list(names) == sorted(names, key=_isort_key)
    # identifiers only: pytest's assertion rewriting may add "@py_builtins" to any module of
    # a distribution that registers a pytest plugin, as llmkit does
    public = {n for n in vars(llmkit.bench) if n.isidentifier() and not n.startswith("_")}
    public -= {"annotations"}
    assert public == set(names)


def test_private_modules_declare_all_and_stay_small() -> None:
    for path in sorted(PKG.glob("_*.py")):
        if path.name == "__init__.py":
            continue
        mod = importlib.import_module(f"llmkit.bench.{path.stem}")
        assert hasattr(mod, "__all__"), path.name
        assert list(mod.__all__) == sorted(mod.__all__, key=_isort_key), path.name
        assert len(path.read_text().splitlines()) < 800, path.name


def test_importing_the_cli_module_stays_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, llmkit.cli._bench; "
        "print(any(m in sys.modules for m in ('pandas', 'matplotlib', 'aiohttp')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_bench_never_imports_its_parent_package() -> None:
    # llmkit's facade imports bench lazily; bench importing the facade back made a cycle.
    import importlib.metadata
    import re

    import llmkit

    for path in sorted(PKG.glob("*.py")):
        text = path.read_text()
        assert not re.search(r"^\s*(from llmkit import|import llmkit\s*$)", text, re.M), path.name
    assert llmkit.__version__ == importlib.metadata.version("llmkit")
