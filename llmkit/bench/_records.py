"""After the run: turn each :class:`RawResponse` into a :class:`RequestRecord`.

Timing comes out of :class:`llmkit.timing.StreamTimer`, the same code the model client
uses, so ``llmkit bench`` and ``llmkit.Client`` report TTFT/ITL/TPOT with one definition.
Token counts per chunk come from the server's cumulative per-chunk usage
(``continuous_usage_stats``) when it sends one; otherwise they are counted here, after
the run, with ``--tokenizer`` or the offline cl100k encoding, and marked approximate.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec

from llmkit._exceptions import ConfigError
from llmkit._sse import data_events, parse_reads
from llmkit.bench._client import RawResponse
from llmkit.timing import StreamTimer, Timing

__all__ = ["ROW_FIELDS", "RequestRecord", "Status", "build_record", "make_counter"]

Status = Literal["ok", "failed", "interrupted"]

#: Columns of ``requests.csv`` (after ``level_label``), in order.
ROW_FIELDS = (
    "level", "index", "status", "http_status", "scheduled_ms", "sent_ms", "first_byte_ms",
    "first_token_ms", "last_token_ms", "end_ms", "send_lag_ms", "queue_wait_ms", "ttft_scheduled_ms", "e2e_scheduled_ms", "ttfb_ms", "ttft_ms", "ttfr_ms",
    "e2e_ms", "tpot_ms", "mean_itl_ms", "output_tps", "prompt_tokens", "output_tokens",
    "token_source", "itl_approximate", "counted_tokens", "chunks", "finish_reason",
    "response_id", "error_detail",
)  # fmt: skip
_NS_PER_MS = 1_000_000


def make_counter(tokenizer: str | None = None) -> Callable[[str], int]:
    """A cached ``text -> tokens`` counter: a local ``tokenizer.json`` or offline cl100k.

    Raises:
        ConfigError: ``tokenizer`` was given but the file or the ``tokenizers`` package
            is missing.
    """
    if tokenizer is None:
        from llmkit._tokens import count_tokens

        base: Callable[[str], int] = count_tokens
    else:
        try:
            from tokenizers import Tokenizer  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            raise ConfigError(
                "--tokenizer needs the 'tokenizers' package: pip install tokenizers"
            ) from None
        try:
            tok = Tokenizer.from_file(tokenizer)
        except Exception as exc:
            raise ConfigError(f"cannot load tokenizer {tokenizer!r}: {exc}") from None

        def base(text: str) -> int:
            return len(tok.encode(text, add_special_tokens=False).ids) if text else 0

    # Streams repeat the same short chunk texts over and over: cache them.
    return functools.lru_cache(maxsize=65536)(base)


@dataclass(frozen=True)
class RequestRecord:
    """One request as measured: raw ``perf_counter_ns`` stamps, its :class:`Timing`, outcome.

    Attributes:
        level: index of the load level (``-1`` for warm-up requests).
        index: request number within the level.
        status: ``"ok"``, ``"failed"`` or ``"interrupted"`` (Ctrl-C).
        error: short reason key when not ok (``http_429``, ``cut``, ``stall``, ``non_sse``…).
        scheduled_ns: when the load pattern wanted it sent; ``sent_ns`` when it went.
        timing: glossary metrics (``None`` when nothing usable came back).
        itl_approximate: per-chunk token counts were counted offline, not sent by the server.
        counted_tokens: the offline count of the output, when it was needed.
        response_id: the ``id`` the server gave the response (to match server logs).
        choice_times_ns: arrival of every event with a non-empty ``choices`` list, role-only
            and finish-only chunks included (what vLLM's ``bench serve`` times).
        text_span_ns: arrival of the first and the last event carrying any text, reasoning
            or answer, as sent (no ``<think>`` splitting): what guidellm and aiperf time.
    """

    level: int
    index: int
    status: Status
    error: str | None
    error_detail: str
    http_status: int | None
    scheduled_ns: int
    sent_ns: int
    first_byte_ns: int | None
    first_token_ns: int | None
    last_token_ns: int | None
    end_ns: int | None
    timing: Timing | None
    prompt_tokens: int | None
    prompt_tokens_sent: int | None
    output_tokens: int
    token_source: str
    itl_approximate: bool
    counted_tokens: int | None
    chunks: int
    reasoning_chunks: int
    finish_reason: str | None
    streamed: bool
    warmup: bool = False
    response_id: str | None = None
    choice_times_ns: tuple[int, ...] = ()
    text_span_ns: tuple[int, int] | None = None

    @property
    def ok(self) -> bool:
        """Whether the request succeeded."""
        return self.status == "ok"

    @property
    def send_lag_ms(self) -> float:
        """Actual minus scheduled send time: client queueing (coordinated omission)."""
        return (self.sent_ns - self.scheduled_ns) / _NS_PER_MS

    @property
    def queue_wait_ms(self) -> float:
        """Scheduled → sent: how long the request waited client-side (same as send lag)."""
        return (self.sent_ns - self.scheduled_ns) / _NS_PER_MS

    @property
    def ttft_scheduled_ms(self) -> float | None:
        """TTFT counted from when the load pattern wanted the request sent.

        What a user arriving at the scheduled time would wait: SLOs and goodput judge
        this, so client-side queueing cannot hide (coordinated omission).
        """
        t = self.ttft_ms
        return None if t is None else t + self.queue_wait_ms

    @property
    def e2e_scheduled_ms(self) -> float | None:
        """E2E counted from the scheduled send time."""
        t = self.e2e_ms
        return None if t is None else t + self.queue_wait_ms

    @property
    def ttft_ms(self) -> float | None:
        """Request sent → first output text, in ms."""
        return self.timing.ttft_ms if self.timing else None

    @property
    def e2e_ms(self) -> float | None:
        """Request sent → last output chunk, in ms (``None`` when it failed early)."""
        return self.timing.e2e_ms if self.timing else None

    @property
    def mean_itl_ms(self) -> float | None:
        """Mean per-token gap of a streamed request, in ms."""
        return self.timing.mean_itl_ms if self.timing and self.streamed else None

    @property
    def tpot_ms(self) -> float | None:
        """Time per output token after the first of a streamed request, in ms."""
        return self.timing.tpot_ms if self.timing and self.streamed else None

    @property
    def usage_mismatch(self) -> int | None:
        """Server usage minus the offline count (``None`` when either is missing)."""
        if self.token_source != "server" or self.counted_tokens is None:
            return None
        return self.output_tokens - self.counted_tokens

    def to_row(self, origin_ns: int) -> dict[str, Any]:
        """A flat row for ``requests.csv``: times in ms relative to ``origin_ns``."""

        def rel(t: int | None) -> float | None:
            return None if t is None else round((t - origin_ns) / _NS_PER_MS, 3)

        t = self.timing
        return {
            "level": self.level,
            "index": self.index,
            "status": "ok" if self.ok else (self.error or self.status),
            "http_status": self.http_status,
            "scheduled_ms": rel(self.scheduled_ns),
            "sent_ms": rel(self.sent_ns),
            "first_byte_ms": rel(self.first_byte_ns),
            "first_choice_ms": rel(self.choice_times_ns[0] if self.choice_times_ns else None),
            "first_token_ms": rel(self.first_token_ns),
            "last_token_ms": rel(self.last_token_ns),
            "end_ms": rel(self.end_ns),
            "send_lag_ms": round(self.send_lag_ms, 3),
            "queue_wait_ms": round(self.queue_wait_ms, 3),
            "ttft_scheduled_ms": self.ttft_scheduled_ms,
            "e2e_scheduled_ms": self.e2e_scheduled_ms,
            "ttfb_ms": t.ttfb_ms if t else None,
            "ttft_ms": t.ttft_ms if t else None,
            "ttfr_ms": t.ttfr_ms if t else None,
            "e2e_ms": t.e2e_ms if t else None,
            "tpot_ms": self.tpot_ms,
            "mean_itl_ms": self.mean_itl_ms,
            "output_tps": t.output_tps if t else None,
            "prompt_tokens": self.prompt_tokens,
            "output_tokens": self.output_tokens,
            "token_source": self.token_source,
            "itl_approximate": self.itl_approximate,
            "counted_tokens": self.counted_tokens,
            "chunks": self.chunks,
            "finish_reason": self.finish_reason,
            "response_id": self.response_id,
            "error_detail": self.error_detail,
        }


def _fail(raw: RawResponse, level: int, reason: str, detail: str, stream: bool) -> RequestRecord:
    status: Status = "interrupted" if reason == "interrupted" else "failed"
    return RequestRecord(
        level=level,
        index=raw.index,
        status=status,
        error=reason,
        error_detail=detail,
        http_status=raw.status,
        scheduled_ns=raw.scheduled_ns,
        sent_ns=raw.sent_ns,
        first_byte_ns=_first(raw),
        first_token_ns=None,
        last_token_ns=None,
        end_ns=raw.end_ns,
        timing=None,
        prompt_tokens=None,
        prompt_tokens_sent=raw.prompt_tokens_sent,
        output_tokens=0,
        token_source="none",
        itl_approximate=False,
        counted_tokens=None,
        chunks=0,
        reasoning_chunks=0,
        finish_reason=None,
        streamed=stream,
        warmup=raw.warmup,
    )


def _first(raw: RawResponse) -> int | None:
    times, _ = raw.arrivals()
    return times[0] if times else raw.headers_ns


# A token count a server may report: beyond it (1e30, a negative) the figure is noise that
# would overflow the arithmetic and the CSV's integers, so it is dropped like a wrong type.
_MAX_COUNT = 2**53
_Count = Annotated[int, msgspec.Meta(ge=0, le=_MAX_COUNT)]


def _int(v: Any) -> int | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return int(v) if 0 <= v <= _MAX_COUNT and v == int(v) else None  # 2.0 yes, 2.5 no


class _Details(msgspec.Struct, gc=False):
    reasoning_tokens: _Count | None = None


class _Usage(msgspec.Struct, gc=False):
    completion_tokens: _Count | None = None
    prompt_tokens: _Count | None = None
    completion_tokens_details: _Details | None = None


class _Delta(msgspec.Struct, gc=False):
    content: str | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None


class _Choice(msgspec.Struct, gc=False):
    index: int | None = None
    delta: _Delta | None = None
    text: str | None = None
    finish_reason: str | None = None


class _Chunk(msgspec.Struct, gc=False):
    """The fields of a streamed chunk the benchmark reads; the rest is skipped unparsed."""

    id: str | None = None
    choices: list[_Choice | None] | None = None
    usage: _Usage | None = None
    error: Any = None


_BOM = b"\xef\xbb\xbf"
# Typed decoding builds only these small structs, never a dict per event.
_CHUNK_DECODER = msgspec.json.Decoder(_Chunk)


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def _loose_chunk(data: bytes) -> _Chunk | None:
    """A chunk with a field of an unexpected type: keep what is usable, drop the rest."""
    try:
        obj = msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return None
    if not isinstance(obj, dict):
        return None
    usage = obj.get("usage")
    u = None
    if isinstance(usage, dict):
        det = usage.get("completion_tokens_details")
        d = _Details(_int(det.get("reasoning_tokens"))) if isinstance(det, dict) else None
        u = _Usage(_int(usage.get("completion_tokens")), _int(usage.get("prompt_tokens")), d)
    choices = obj.get("choices")
    ch: list[_Choice | None] | None = None
    if isinstance(choices, list) and choices:
        first = choices[0]
        if isinstance(first, dict):
            delta = first.get("delta")
            dl = None
            if isinstance(delta, dict):
                dl = _Delta(
                    _str(delta.get("content")),
                    _str(delta.get("reasoning_content")),
                    _str(delta.get("reasoning")),
                )
            reason = _str(first.get("finish_reason"))
            index = first.get("index")
            index = index if isinstance(index, int) else None
            ch = [_Choice(index, dl, _str(first.get("text")) if dl is None else None, reason)]
    return _Chunk(_str(obj.get("id")), ch, u, obj.get("error"))


def build_record(
    raw: RawResponse, *, level: int, stream: bool, count: Callable[[str], int]
) -> RequestRecord:
    """Parse what the hot path kept and compute the request's timing."""
    if raw.error is not None:
        if stream and raw.error in ("stall", "timeout") and raw.status == 200:
            kept = _finished_before_hang(raw, level, count)
            if kept is not None:
                return kept
        return _fail(raw, level, raw.error, raw.error_detail, stream)
    if not stream:
        return _build_plain(raw, level, count)

    arr_times, arr_chunks = raw.arrivals()
    if arr_chunks and arr_chunks[0].startswith(_BOM):
        # The SSE spec drops a leading BOM; read as a field name it would hide the first line.
        arr_chunks = [arr_chunks[0][len(_BOM) :], *arr_chunks[1:]]
    fast = data_events(arr_times, arr_chunks)
    if fast is None:  # CR line ends, multi-line events, other fields: the full parser
        events, partial = parse_reads(arr_times, arr_chunks)
        ev_times, ev_data = [e.t_ns for e in events], [e.data for e in events]
    else:
        ev_times, ev_data, partial = fast
    if not ev_data:
        body = b"".join(arr_chunks)[:200].decode("utf-8", "replace")
        kind = "non_sse" if "event-stream" not in raw.content_type else "no_events"
        return _fail(raw, level, kind, f"{raw.content_type or 'no content type'}: {body}", stream)

    timer = StreamTimer(sent_ns=raw.sent_ns)
    timer.byte(arr_times[0])
    feed = timer.feed
    # After the first released output, a plain content delta is exactly
    # ``timer.output(t, content, tokens)``: append to its lists without the call.
    add_t, add_n, add_s = (
        timer.chunk_times_ns.append,
        timer.chunk_tokens.append,
        timer.chunk_texts.append,
    )
    decode = _CHUNK_DECODER.decode
    released = False  # once output text was released, plain content needs no splitting
    done = False
    usage_total: int | None = None
    prompt_tokens: int | None = None
    prev_cum: int | None = None
    finish_reason: str | None = None
    bad = 0
    reasoning_total: int | None = None
    response_id: str | None = None
    choice_times: list[int] = []  # peers' definitions (see RequestRecord)
    first_text: int | None = None
    last_text: int | None = None
    hidden = 0  # per-chunk usage of text-less chunks, not yet given to a text chunk
    for t_ns, data in zip(ev_times, ev_data, strict=True):
        if data == b"[DONE]":
            done = True
            continue
        ch: _Chunk | None
        try:
            ch = decode(data)
        except msgspec.ValidationError:  # valid JSON, some field of another type
            ch = _loose_chunk(data)
        except (msgspec.DecodeError, RecursionError):  # not JSON, or `[[[[…` too deep
            ch = None
        if ch is None:
            bad += 1
            continue
        if ch.error is not None and not ch.choices:
            detail = json.dumps(ch.error)[:300]
            return _fail(raw, level, "stream_error", detail, stream)
        if response_id is None:
            response_id = ch.id
        carried: int | None = None
        usage = ch.usage
        if usage is not None:
            cum = usage.completion_tokens
            prompt_tokens = usage.prompt_tokens or prompt_tokens
            details = usage.completion_tokens_details
            if details is not None and details.reasoning_tokens is not None:
                reasoning_total = details.reasoning_tokens
            if cum is not None:
                # continuous_usage_stats: cumulative count, so a chunk carries the difference
                carried = cum - (prev_cum or 0)
                prev_cum = cum
                usage_total = cum
        choices = ch.choices
        if not choices:
            continue
        choice_times.append(t_ns)
        choice = choices[0]
        if choice is None or choice.index:  # with n > 1, another choice's chunk
            continue
        finish_reason = choice.finish_reason or finish_reason
        delta = choice.delta
        if delta is not None:
            content = delta.content
            reasoning = delta.reasoning_content or delta.reasoning
        else:  # legacy completions chunks carry "text"
            content, reasoning = choice.text, None
        if not (content or reasoning):
            # tokens reported on a chunk without text (a role chunk, a special token)
            # arrive with the next text: its gap covers them
            hidden += carried or 0
            continue
        if hidden and carried is not None:
            carried, hidden = carried + hidden, 0
        first_text = t_ns if first_text is None else first_text
        last_text = t_ns
        if reasoning:
            feed(t_ns, content, reasoning, carried)
        elif content:
            if released:
                add_t(t_ns)
                add_n(carried)
                add_s(content)
            else:
                released = bool(feed(t_ns, content, None, carried))
    timer.end(ev_times[-1])
    reasoning_chunks = len(timer.reasoning_texts)
    if bad:
        return _fail(raw, level, "bad_sse", f"{bad} event(s) with a non-JSON data payload", stream)
    if partial or not (done or finish_reason):
        return _fail(raw, level, "cut", "stream ended before [DONE] or a finish_reason", stream)
    if not timer.chunk_times_ns and not reasoning_chunks:
        return _fail(raw, level, "no_output", "the stream carried no text", stream)

    per_chunk_known = bool(timer.chunk_tokens) and None not in timer.chunk_tokens
    timing = timer.finish(usage_tokens=usage_total, reasoning_tokens=reasoning_total, count=count)
    counted = None
    if not per_chunk_known and timer.chunk_texts:
        counted = count("".join(timer.chunk_texts))
    times = timer.chunk_times_ns
    return RequestRecord(
        level=level,
        index=raw.index,
        status="ok",
        error=None,
        error_detail="",
        http_status=raw.status,
        scheduled_ns=raw.scheduled_ns,
        sent_ns=raw.sent_ns,
        first_byte_ns=arr_times[0],
        first_token_ns=times[0] if times else None,
        last_token_ns=times[-1] if times else None,
        end_ns=raw.end_ns,
        timing=timing,
        prompt_tokens=prompt_tokens,
        prompt_tokens_sent=raw.prompt_tokens_sent,
        output_tokens=timing.output_tokens,
        token_source=timing.token_source,
        itl_approximate=not per_chunk_known and len(times) > 1,
        counted_tokens=counted,
        chunks=len(times),
        reasoning_chunks=reasoning_chunks,
        finish_reason=finish_reason,
        streamed=True,
        warmup=raw.warmup,
        response_id=response_id,
        choice_times_ns=tuple(choice_times),
        text_span_ns=None if first_text is None or last_text is None else (first_text, last_text),
    )


def _finished_before_hang(
    raw: RawResponse, level: int, count: Callable[[str], int]
) -> RequestRecord | None:
    """A stream whose ``finish_reason`` arrived before the server went quiet without
    hanging up or sending ``[DONE]`` (OCI, vllm-metal do): its answer, ended at its last
    byte; ``None`` if the answer had not finished."""
    times, _ = raw.arrivals()
    if not times:
        return None
    ended = dataclasses.replace(raw, error=None, error_detail="", end_ns=times[-1])
    record = build_record(ended, level=level, stream=True, count=count)
    return record if record.ok and record.finish_reason is not None else None


def _build_plain(raw: RawResponse, level: int, count: Callable[[str], int]) -> RequestRecord:
    """A non-streaming response: TTFB is the headers, TTFT and E2E the full body."""
    body = b"".join(raw.chunks)
    try:
        obj = json.loads(body)
        choice = obj["choices"][0]
        message = choice.get("message") or {}
        content = message.get("content") if isinstance(message, dict) else None
        content = content if isinstance(content, str) else str(choice.get("text") or "")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError):
        text = body[:200].decode("utf-8", "replace")
        return _fail(raw, level, "non_json", f"{raw.content_type}: {text}", False)
    usage = obj.get("usage") if isinstance(obj.get("usage"), dict) else {}
    usage_tokens = _int(usage.get("completion_tokens"))
    end = raw.end_ns or raw.sent_ns
    timer = StreamTimer(sent_ns=raw.sent_ns)
    timer.byte(raw.headers_ns or end)
    timer.output(end, content, usage_tokens)
    timing = timer.finish(usage_tokens=usage_tokens, end_ns=end, streamed=False, count=count)
    counted = count(content) if usage_tokens is None else None
    return RequestRecord(
        level=level,
        index=raw.index,
        status="ok",
        error=None,
        error_detail="",
        http_status=raw.status,
        scheduled_ns=raw.scheduled_ns,
        sent_ns=raw.sent_ns,
        first_byte_ns=raw.headers_ns,
        first_token_ns=end,
        last_token_ns=end,
        end_ns=end,
        timing=timing,
        prompt_tokens=_int(usage.get("prompt_tokens")),
        prompt_tokens_sent=raw.prompt_tokens_sent,
        output_tokens=timing.output_tokens,
        token_source=timing.token_source if usage_tokens is not None else "approximate",
        itl_approximate=False,
        counted_tokens=counted,
        chunks=1,
        reasoning_chunks=0,
        finish_reason=choice.get("finish_reason"),
        streamed=False,
        warmup=raw.warmup,
        response_id=obj.get("id") if isinstance(obj.get("id"), str) else None,
        choice_times_ns=(end,),
        text_span_ns=(end, end),
    )
