"""Lazy public facades (a package's public names imported from their modules on first use)
and lazily compiled patterns.

A floor module (imports nothing of llmkit): ``import llmkit`` and the first ``parse``
load only the modules they use.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any, cast

__all__ = ["lazy_exports", "lazy_pattern"]


def lazy_exports(
    package: str, exports: dict[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``exports[name]`` and caches the name in
    ``namespace`` (the package's ``globals()``)."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__


class _LazyPattern:
    """A regular expression compiled on first use (compiling costs ~0.1 ms each; most
    of the repair rules' patterns are never needed by a parse that needs no repair)."""

    def __init__(self, pattern: str, flags: int) -> None:
        self._args = (pattern, flags)

    def __getattr__(self, name: str) -> Any:
        compiled = re.compile(*self._args)
        # bound to the instance: later calls find them without coming back here
        for method in ("match", "fullmatch", "search", "sub", "subn", "split"):
            setattr(self, method, getattr(compiled, method))
        for method in ("findall", "finditer", "pattern", "flags", "groups", "groupindex"):
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)


def lazy_pattern(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(pattern, flags)``, compiled when first used (a module-level pattern
    of a rule that most parses never run)."""
    return cast("re.Pattern[str]", _LazyPattern(pattern, flags))
