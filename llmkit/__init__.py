"""llmkit: make LLM applications dependable.

The public API is small and listed in ``__all__``; names are imported on first use so
that ``import llmkit`` (and ``llmkit --help``) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmkit._lazy import lazy_exports

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
    "MissingExtraError": "llmkit.extras",
    "RetryPolicy": "llmkit.llm",
    "Timeouts": "llmkit.llm",
    "ModelNotFoundError": "llmkit._exceptions",
    "ParseError": "llmkit._exceptions",
    "RateLimitError": "llmkit._exceptions",
    "ServerError": "llmkit._exceptions",
    "StreamInterruptedError": "llmkit._exceptions",
    "StructuredOutputError": "llmkit._exceptions",
    "Timing": "llmkit.timing",
    "UnsafeInputError": "llmkit._exceptions",
    "__version__": "llmkit._version",  # reading package metadata costs ~20 ms: on first use
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # "X as X" re-exports them for type checkers, which cannot read __all__
    from llmkit._exceptions import AuthError as AuthError
    from llmkit._exceptions import BadResponseError as BadResponseError
    from llmkit._exceptions import CallTimeoutError as CallTimeoutError
    from llmkit._exceptions import ConfigError as ConfigError
    from llmkit._exceptions import ConnectError as ConnectError
    from llmkit._exceptions import LLMCallError as LLMCallError
    from llmkit._exceptions import LLMKitError as LLMKitError
    from llmkit._exceptions import ModelNotFoundError as ModelNotFoundError
    from llmkit._exceptions import ParseError as ParseError
    from llmkit._exceptions import RateLimitError as RateLimitError
    from llmkit._exceptions import ServerError as ServerError
    from llmkit._exceptions import StreamInterruptedError as StreamInterruptedError
    from llmkit._exceptions import StructuredOutputError as StructuredOutputError
    from llmkit._exceptions import UnsafeInputError as UnsafeInputError
    from llmkit._version import __version__ as __version__
    from llmkit.bench import BenchConfig as BenchConfig
    from llmkit.bench import run_bench as run_bench
    from llmkit.extras import MissingExtraError as MissingExtraError
    from llmkit.llm import AsyncClient as AsyncClient
    from llmkit.llm import CallResult as CallResult
    from llmkit.llm import Client as Client
    from llmkit.llm import RetryPolicy as RetryPolicy
    from llmkit.llm import Timeouts as Timeouts
    from llmkit.prompts import load_prompt as load_prompt
    from llmkit.structured import StructuredResult as StructuredResult
    from llmkit.structured import format_instructions as format_instructions
    from llmkit.structured import parse as parse
    from llmkit.structured import taxonomy as taxonomy
    from llmkit.structured import token_cost as token_cost
    from llmkit.timing import Timing as Timing


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    return __all__
