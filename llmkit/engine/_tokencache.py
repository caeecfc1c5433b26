"""Answers cut into cl100k tokens once, cached, so the hot path never tokenizes.

A *unit* is the smallest run of tokens that decodes to whole UTF-8 characters (most
units are one token; an emoji may take three). Chunks are built from whole units, so
no SSE event ever carries half a character.
"""

from __future__ import annotations

import codecs
import functools
import json
from dataclasses import dataclass

from llmkit._tokens import encode, get_encoding

__all__ = ["TokenizedText", "tokenize_text"]


@dataclass(frozen=True)
class TokenizedText:
    """A text cut into units.

    Attributes:
        text: the whole text.
        raw: each unit's text.
        escaped: each unit's text escaped for a JSON string literal (no quotes).
        tokens: each unit's token count.
        total: tokens in all.
    """

    text: str
    raw: tuple[str, ...]
    escaped: tuple[str, ...]
    tokens: tuple[int, ...]
    total: int


def _escape(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


@functools.lru_cache(maxsize=8192)
def tokenize_text(text: str) -> TokenizedText:
    """Cut ``text`` into UTF-8-safe units of cl100k tokens (cached, LRU).

    >>> t = tokenize_text("hi 🎉")
    >>> t.raw, t.tokens
    (('hi', ' 🎉'), (1, 3))
    """
    decoder_bytes = get_encoding()._decoder
    ids = encode(text)
    raw: list[str] = []
    counts: list[int] = []
    dec = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    n = 0
    for tid in ids:
        pending += dec.decode(decoder_bytes[tid])
        n += 1
        if dec.getstate()[0] == b"":  # no half character left over: close the unit
            raw.append(pending)
            counts.append(n)
            pending, n = "", 0
    if n:
        raw.append(pending + dec.decode(b"", final=True))
        counts.append(n)
    return TokenizedText(
        text=text,
        raw=tuple(raw),
        escaped=tuple(_escape(r) for r in raw),
        tokens=tuple(counts),
        total=len(ids),
    )
