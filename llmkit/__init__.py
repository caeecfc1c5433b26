"""llmkit: make LLM applications dependable.

The public API is small and listed in ``__all__``; names are imported on first use so
that ``import llmkit`` (and ``llmkit --help``) stays fast.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import TYPE_CHECKING, Any

try:  # the installed distribution's version; a bare source tree falls back
    __version__ = importlib.metadata.version("llmkit")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover
    __version__ = "0.0.0+unknown"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "AsyncClient": "llmkit.llm",
    "BenchConfig": "llmkit.bench",
    "StructuredResult": "llmkit.structured",
    "format_instructions": "llmkit.structured",
    "load_prompt": "llmkit.prompts",
    "parse": "llmkit.structured",
    "run_bench": "llmkit.bench",
    "taxonomy": "llmkit.structured",
    "token_cost": "llmkit.structured",
    "AuthError": "llmkit._exceptions",
    "BadResponseError": "llmkit._exceptions",
    "CallResult": "llmkit.llm",
    "CallTimeoutError": "llmkit._exceptions",
    "Client": "llmkit.llm",
    "ConfigError": "llmkit._exceptions",
    "ConnectError": "llmkit._exceptions",
    "LLMCallError": "llmkit._exceptions",
    "LLMKitError": "llmkit._exceptions",
    "ModelNotFoundError": "llmkit._exceptions",
    "ParseError": "llmkit._exceptions",
    "RateLimitError": "llmkit._exceptions",
    "ServerError": "llmkit._exceptions",
    "StreamInterruptedError": "llmkit._exceptions",
    "StructuredOutputError": "llmkit._exceptions",
    "Timing": "llmkit.timing",
    "UnsafeInputError": "llmkit._exceptions",
}

__all__ = sorted([*_EXPORTS, "__version__"])

if TYPE_CHECKING:
    from llmkit._exceptions import (
        AuthError,
        BadResponseError,
        CallTimeoutError,
        ConfigError,
        ConnectError,
        LLMCallError,
        LLMKitError,
        ModelNotFoundError,
        ParseError,
        RateLimitError,
        ServerError,
        StreamInterruptedError,
        StructuredOutputError,
        UnsafeInputError,
    )
    from llmkit.bench import BenchConfig, run_bench
    from llmkit.llm import AsyncClient, CallResult, Client
    from llmkit.prompts import load_prompt
    from llmkit.structured import (
        StructuredResult,
        format_instructions,
        parse,
        taxonomy,
        token_cost,
    )
    from llmkit.timing import Timing


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llmkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
