"""The one glossary of latency metrics, shared by the client, the engine and the benchmark.

Every timestamp is ``time.perf_counter_ns()`` (CLOCK_MONOTONIC on Linux, so it is
comparable across processes on one machine). Definitions:

TTFB
    request sent → first byte of the response body (or headers, for non-streaming).
TTFR
    request sent → first chunk carrying *reasoning* text (``reasoning_content`` /
    ``reasoning`` deltas, or text inside a leading ``<think>`` block).
TTFT
    request sent → first chunk carrying *output* text. Role-only, empty, usage-only
    and reasoning chunks do not count.
ICL
    inter-chunk latency: the gaps between consecutive output chunks.
ITL / TBT
    per-token inter-token latency: each output chunk's gap (from the previous output
    chunk) spread evenly over the tokens it carries, so a chunk of 4 tokens that came
    40 ms after the previous one contributes four values of 10 ms.
TPOT
    time per output token after the first: ``(E2E − TTFT) / (output tokens − 1)``.
    Undefined for answers of one token or less (``None``; aggregates count them).
E2E
    request sent → last output chunk (for non-streaming: → full response read).
Output tokens
    the answer's tokens: the server's usage when it sends one, less its reasoning tokens
    (``completion_tokens_details.reasoning_tokens``, per-chunk usage on reasoning
    chunks, or else an offline count of the reasoning text, then marked approximate);
    otherwise the per-chunk counts the server sent (``continuous_usage_stats``);
    otherwise an offline count (``cl100k_base``), marked approximate. Reasoning tokens
    are reported on their own.
Output TPS
    output tokens / E2E seconds, per request.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = [
    "ChunkKind",
    "ReasoningSplitter",
    "StreamTimer",
    "Timing",
    "apportion",
    "inter_chunk_latencies",
    "per_token_itl",
    "tpot_ms",
]

ChunkKind = Literal["output", "reasoning", "empty"]
TokenSource = Literal["server", "chunks", "approximate", "none"]

_NS_PER_MS = 1_000_000


def _ms(ns: int | None) -> float | None:
    return None if ns is None else ns / _NS_PER_MS


def inter_chunk_latencies(chunk_times_ns: Sequence[int]) -> list[float]:
    """Gaps between consecutive output chunks, in milliseconds."""
    return [(b - a) / _NS_PER_MS for a, b in itertools.pairwise(chunk_times_ns)]


def per_token_itl(chunk_times_ns: Sequence[int], chunk_tokens: Sequence[int]) -> list[float]:
    """Per-token ITL in ms: each chunk's gap spread over the tokens it carries.

    ``chunk_tokens[i]`` is the number of tokens chunk ``i`` carried (at least 1 is
    assumed for a chunk with text). The first chunk has no gap (its wait is TTFT).

    >>> per_token_itl([0, 40_000_000, 50_000_000], [1, 4, 1])
    [10.0, 10.0, 10.0, 10.0, 10.0]
    """
    out: list[float] = []
    for i in range(1, len(chunk_times_ns)):
        n = max(1, chunk_tokens[i] if i < len(chunk_tokens) else 1)
        share = (chunk_times_ns[i] - chunk_times_ns[i - 1]) / _NS_PER_MS / n
        out.extend([share] * n)
    return out


def tpot_ms(e2e_ms: float | None, ttft_ms: float | None, output_tokens: int) -> float | None:
    """``(E2E − TTFT) / (tokens − 1)``; ``None`` when undefined (≤ 1 token or no TTFT)."""
    if e2e_ms is None or ttft_ms is None or output_tokens <= 1:
        return None
    return (e2e_ms - ttft_ms) / (output_tokens - 1)


class ReasoningSplitter:
    """Classify streamed content deltas of a model that may open with ``<think>…</think>``.

    Feed each content delta; it returns ``(reasoning_text, output_text)``. Text is held
    back only while it could still be the start of ``<think>``.
    """

    _OPEN = "<think>"
    _CLOSE = "</think>"

    def __init__(self) -> None:
        self._state: Literal["undecided", "thinking", "output"] = "undecided"
        self._pending = ""

    def feed(self, delta: str) -> tuple[str, str]:
        """Split one text delta into ``(reasoning, output)`` parts."""
        if self._state == "output":
            return "", delta
        self._pending += delta
        if self._state == "undecided":
            head = self._pending.lstrip()
            if not head:
                return "", ""
            if head.startswith(self._OPEN):
                self._state = "thinking"
                self._pending = head[len(self._OPEN) :]
            elif self._OPEN.startswith(head):
                return "", ""  # could still become "<think>"
            else:
                self._state = "output"
                text, self._pending = self._pending, ""
                return "", text
        # thinking: look for the close tag (it may be split across deltas)
        end = self._pending.find(self._CLOSE)
        if end < 0:
            keep = len(self._CLOSE) - 1
            reasoning = self._pending[:-keep] if len(self._pending) > keep else ""
            self._pending = self._pending[len(reasoning) :]
            return reasoning, ""
        reasoning = self._pending[:end]
        rest = self._pending[end + len(self._CLOSE) :]
        self._state = "output"
        self._pending = ""
        return reasoning, rest

    def flush(self) -> tuple[str, str]:
        """Text still held back at the end of the stream (output if undecided)."""
        pending, self._pending = self._pending, ""
        if self._state == "thinking":
            return pending, ""
        return "", pending


@dataclass(frozen=True)
class Timing:
    """Latency of one request (one attempt, or a whole call), in the glossary's terms.

    Times are milliseconds relative to ``sent_ns`` unless named ``*_ns``.
    """

    sent_ns: int
    ttfb_ms: float | None
    ttft_ms: float | None
    ttfr_ms: float | None
    e2e_ms: float | None
    output_tokens: int
    token_source: TokenSource
    chunk_times_ns: tuple[int, ...] = ()
    reasoning_tokens: int = 0
    chunk_tokens: tuple[int, ...] = ()
    streamed: bool = True

    @property
    def tokens_approximate(self) -> bool:
        """Whether the output token count is an offline estimate, not the server's."""
        return self.token_source == "approximate"

    @property
    def icl_ms(self) -> list[float]:
        """Gaps between consecutive output chunks (inter-chunk latency), in ms."""
        return inter_chunk_latencies(self.chunk_times_ns)

    @property
    def itl_ms(self) -> list[float]:
        """Per-token gaps (ITL/TBT): each chunk's gap spread over the tokens it carries, in ms."""
        return per_token_itl(self.chunk_times_ns, self.chunk_tokens)

    @property
    def mean_itl_ms(self) -> float | None:
        """Mean of :attr:`itl_ms`, or ``None`` with fewer than two output chunks."""
        itl = self.itl_ms
        return sum(itl) / len(itl) if itl else None

    @property
    def tpot_ms(self) -> float | None:
        """Time per output token after the first, in ms; ``None`` for a body or one token."""
        if not self.streamed:
            return None  # one body: there is no per-token pace to measure
        return tpot_ms(self.e2e_ms, self.ttft_ms, self.output_tokens)

    @property
    def output_tps(self) -> float | None:
        """Output tokens per second over the whole call (E2E), or ``None``."""
        if not self.e2e_ms or self.output_tokens <= 0:
            return None
        return self.output_tokens / (self.e2e_ms / 1000)

    def to_dict(self) -> dict[str, Any]:
        """Flat summary for logs and DataFrames (raw chunk times left out)."""
        d = asdict(self)
        del d["chunk_times_ns"], d["chunk_tokens"]
        d.update(
            tpot_ms=self.tpot_ms,
            mean_itl_ms=self.mean_itl_ms,
            output_tps=self.output_tps,
            chunks=len(self.chunk_times_ns),
            tokens_approximate=self.tokens_approximate,
        )
        return d


# Tokens a chunk may carry beyond one per byte of its text: special tokens without text
# (an end-of-turn, a role), which per-chunk usage may count on it.
_TEXTLESS_TOKENS = 16


def _plausible(tokens_per_chunk: Sequence[int], texts: Sequence[str]) -> list[int]:
    """Per-chunk counts for per-token ITL, each at most one per byte of the chunk's text
    (every token decodes to at least one byte) plus a few without text.

    The counts come from the server; a claim of 10**12 tokens on one chunk would make a
    list of that many gaps. The call's total (``output_tokens``) stays what was reported.
    """
    out = []
    for i, n in enumerate(tokens_per_chunk):
        text = texts[i] if i < len(texts) else ""
        out.append(max(0, min(n, len(text.encode("utf-8", "replace")) + _TEXTLESS_TOKENS)))
    return out


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` split over parts in proportion to ``weights``, at least 1 each, summing to
    ``total`` when it allows (largest remainders round up).

    >>> apportion(10, [1, 1, 2])
    [3, 3, 4]
    """
    n = len(weights)
    if n == 0:
        return []
    if total <= n:
        return [1] * n
    spare = total - n  # each part carries at least one token
    if not any(weights):
        weights = [1] * n
    weight = sum(weights)
    shares = [spare * w / weight for w in weights]
    out = [1 + int(x) for x in shares]
    order = sorted(range(n), key=lambda i: (int(shares[i]) - shares[i], i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


@dataclass
class StreamTimer:
    """Collects raw timestamps while a response streams; :meth:`finish` builds :class:`Timing`.

    Feed every delta to :meth:`feed` (the client and the benchmark both do), so reasoning,
    held-back text and per-chunk tokens are attributed one way everywhere. The hot path
    only appends; all arithmetic happens in :meth:`finish`.
    """

    sent_ns: int
    first_byte_ns: int | None = None
    first_reasoning_ns: int | None = None
    chunk_times_ns: list[int] = field(default_factory=list)
    chunk_tokens: list[int | None] = field(default_factory=list)
    chunk_texts: list[str] = field(default_factory=list)
    reasoning_texts: list[str] = field(default_factory=list)
    reasoning_token_counts: list[int | None] = field(default_factory=list)
    _splitter: ReasoningSplitter = field(default_factory=ReasoningSplitter, repr=False)
    _held_ns: int | None = field(default=None, repr=False)
    _held_tokens: int | None = field(default=None, repr=False)

    def byte(self, t_ns: int) -> None:
        """Note that response bytes arrived at ``t_ns`` (the first sets TTFB)."""
        if self.first_byte_ns is None:
            self.first_byte_ns = t_ns

    def reasoning(self, t_ns: int, text: str = "", tokens: int | None = None) -> None:
        """A chunk of reasoning arrived (``tokens`` if the server said)."""
        if self.first_reasoning_ns is None:
            self.first_reasoning_ns = t_ns
        if text:
            self.reasoning_texts.append(text)
            self.reasoning_token_counts.append(tokens)

    def output(self, t_ns: int, text: str, tokens: int | None = None) -> None:
        """An output chunk arrived carrying ``text`` (``tokens`` if the server said)."""
        self.chunk_times_ns.append(t_ns)
        self.chunk_tokens.append(tokens)
        self.chunk_texts.append(text)

    def feed(
        self,
        t_ns: int,
        content: str | None,
        reasoning: str | None = None,
        tokens: int | None = None,
    ) -> str:
        """Fold one streamed delta; return the output text it released.

        Args:
            t_ns: arrival time of the chunk.
            content: ``delta.content`` (may open with a ``<think>`` block).
            reasoning: ``reasoning_content``/``reasoning`` text of the delta.
            tokens: tokens the chunk carried (continuous usage), if known.

        Content that might still open ``<think>`` (leading whitespace, a lone ``<``) is
        held back; when it turns out to be output it keeps the time it *arrived*.
        """
        if reasoning:
            self.reasoning(t_ns, reasoning, None if content else tokens)
        if not content:
            return ""
        think, out = self._splitter.feed(content)
        held_ns, held_tokens = self._held_ns, self._held_tokens
        if not think and not out:  # held back: remember when it came
            if held_ns is None:
                self._held_ns, self._held_tokens = t_ns, tokens
            elif tokens is not None and held_tokens is not None:
                self._held_tokens = held_tokens + tokens
            return ""
        self._held_ns = self._held_tokens = None
        if think:  # reasoning text is timed when it arrives (a bare "<think>" carries none)
            self.reasoning(t_ns, think, None if out else tokens)
        if out:
            prefix = out[: len(out) - len(content)] if out.endswith(content) else ""
            if prefix and held_ns is not None and not think:
                self.output(held_ns, prefix, held_tokens)
                self.output(t_ns, content, tokens)
            else:
                carried = tokens
                if held_ns is not None and tokens is not None and held_tokens is not None:
                    carried = tokens + held_tokens
                self.output(t_ns, out, carried)
        return out

    def end(self, t_ns: int) -> str:
        """The stream ended: release held-back text; return the output part."""
        think, out = self._splitter.flush()
        if think:
            self.reasoning(t_ns, think, self._held_tokens)
        if out:
            at = self._held_ns if self._held_ns is not None else t_ns
            self.output(at, out, self._held_tokens)
        self._held_ns = self._held_tokens = None
        return out

    def finish(
        self,
        *,
        usage_tokens: int | None = None,
        reasoning_tokens: int | None = None,
        end_ns: int | None = None,
        streamed: bool = True,
        count: Any = None,
    ) -> Timing:
        """Build the :class:`Timing`.

        Args:
            usage_tokens: ``completion_tokens`` from the server's usage, if sent (it
                includes reasoning tokens).
            reasoning_tokens: ``completion_tokens_details.reasoning_tokens``, if sent.
            end_ns: for non-streaming calls, when the full body was read.
            streamed: whether the response was streamed.
            count: ``str -> int`` offline token counter (defaults to cl100k).
        """
        times = self.chunk_times_ns
        known = [t for t in self.chunk_tokens if t is not None]
        per_chunk_known = len(known) == len(self.chunk_tokens) and bool(known)
        counter = count
        if counter is None:
            from llmkit._tokens import count_tokens as counter
        # Reasoning tokens: the server's figure, else per-chunk usage, else counted.
        reasoning_known = reasoning_tokens is not None
        if reasoning_tokens is None and self.reasoning_texts:
            if all(t is not None for t in self.reasoning_token_counts):
                reasoning_tokens, reasoning_known = (
                    sum(t or 0 for t in self.reasoning_token_counts),
                    True,
                )
            else:
                reasoning_tokens = counter("".join(self.reasoning_texts))
        reasoning_tokens = reasoning_tokens or 0
        answer_usage = None
        if usage_tokens is not None:
            # Usage counts reasoning too; TPOT and TPS are about the answer alone.
            answer_usage = max(usage_tokens - reasoning_tokens, len(self.chunk_texts))
        if per_chunk_known:
            tokens_per_chunk = [int(t) for t in known]
        elif answer_usage is not None:
            # Never count what the server reported: spread its total over the chunks.
            tokens_per_chunk = apportion(answer_usage, [len(t) for t in self.chunk_texts])
        else:
            tokens_per_chunk = [max(1, counter(t)) if t else 1 for t in self.chunk_texts]
        tokens_per_chunk = _plausible(tokens_per_chunk, self.chunk_texts)
        source: TokenSource
        if answer_usage is not None:
            total = answer_usage
            source = "server" if reasoning_known or not self.reasoning_texts else "approximate"
        elif per_chunk_known:
            total, source = sum(tokens_per_chunk), "chunks"
        elif self.chunk_texts:
            total, source = counter("".join(self.chunk_texts)), "approximate"
        else:
            total, source = 0, "none"

        def rel(t: int | None) -> float | None:
            return None if t is None else (t - self.sent_ns) / _NS_PER_MS

        last = end_ns if end_ns is not None else (times[-1] if times else None)
        first_out = times[0] if times else (end_ns if not streamed else None)
        return Timing(
            sent_ns=self.sent_ns,
            ttfb_ms=rel(self.first_byte_ns),
            ttft_ms=rel(first_out) if total or times else None,
            ttfr_ms=rel(self.first_reasoning_ns),
            e2e_ms=rel(last),
            output_tokens=total,
            token_source=source,
            chunk_times_ns=tuple(times),
            chunk_tokens=tuple(tokens_per_chunk),
            streamed=streamed,
            reasoning_tokens=reasoning_tokens,
        )
