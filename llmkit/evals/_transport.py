"""The one adapter between eval cassettes and HTTP: two ``httpx2`` transports, no patching.

llmkit's :class:`~llmkit.llm.Client` takes a ``wrap_transport`` hook and a ``transport``;
an eval run hands it

- :class:`RecordingTransport`, which wraps the client's own transport and, for calls made
  under :func:`capture`, notes when each byte chunk came off the socket (the client still
  streams) and files the exchange with the case's :class:`~llmkit.evals._cassettes.Recorder`;
- :class:`ReplayTransport`, which answers from the :class:`Tape` playing in this context
  (one case's cassette) and never opens a socket.

Only httpx2's public transport API is used (``BaseTransport.handle_request``, ``Response``
built with a ``SyncByteStream``), and the transport belongs to one client: nothing is
patched process-wide, so recordings and replays in different threads cannot undo each
other. ``tests/evals/test_transport_contract.py`` fails loudly when that API changes.
Timing comes from the SSE reader and :class:`~llmkit.timing.StreamTimer` that the
benchmark uses, so a recorded TTFT means what a measured one means.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2

from llmkit._sse import parse_reads
from llmkit.evals._cassettes import (
    CassetteError,
    Recorder,
    canonical_body,
    coalesce_sse,
    endpoint_path,
    load_cassette,
)
from llmkit.timing import StreamTimer

__all__ = [
    "NoRecording",
    "RecordingTransport",
    "ReplayTransport",
    "Tape",
    "capture",
    "recorded_timing",
    "unmatched",
]

_RECORDER: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar(
    "llmkit_eval_recorder", default=None
)
_TAPE: contextvars.ContextVar[Tape | None] = contextvars.ContextVar(
    "llmkit_eval_tape", default=None
)


# --- timing of one recorded response -------------------------------------------------------
def recorded_timing(
    sent_ns: int, headers_ns: int, chunks: list[tuple[int, bytes]]
) -> dict[str, Any]:
    """TTFB, TTFT, ITL and E2E (ms) and tokens of one response, from its chunks' arrival.

    A stream is read with the shared SSE parser (any line ends, events split anywhere)
    and folded by :class:`StreamTimer`; a JSON body counts as one output at its end.
    """
    times = [t for t, _ in chunks]
    parts = [c for _, c in chunks]
    body = b"".join(parts)
    end_ns = times[-1] if times else headers_ns
    timer = StreamTimer(sent_ns=sent_ns)
    timer.byte(times[0] if times else headers_ns)
    usage: dict[str, Any] = {}
    streamed = not body.lstrip().startswith(b"{")
    if streamed:
        events, _partial = parse_reads(times, parts)
        for event in events:
            obj = _json(event.data)
            if obj is None:
                continue
            if isinstance(obj.get("usage"), dict):
                usage = obj["usage"]
            for choice in obj.get("choices") or ():
                delta = choice.get("delta") or {} if isinstance(choice, dict) else {}
                reasoning = delta.get("reasoning_content") or delta.get("reasoning")
                timer.feed(event.t_ns, delta.get("content"), reasoning)
        timer.end(end_ns)
    else:
        obj = _json(body) or {}
        usage = obj["usage"] if isinstance(obj.get("usage"), dict) else {}
        choices = obj.get("choices") or [{}]
        message = (choices[0] or {}).get("message") or {} if isinstance(choices, list) else {}
        text = message.get("content") if isinstance(message, dict) else None
        timer.output(end_ns, text if isinstance(text, str) else "", usage.get("completion_tokens"))
    details = usage.get("completion_tokens_details") or {}
    timing = timer.finish(
        usage_tokens=usage.get("completion_tokens"),
        reasoning_tokens=details.get("reasoning_tokens") if isinstance(details, dict) else None,
        end_ns=None if streamed else end_ns,
        streamed=streamed,
    )
    itl = timing.itl_ms

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value, 3)

    return {
        "ttfb_ms": ms(timing.ttfb_ms),
        "e2e_ms": ms((end_ns - sent_ns) / 1e6 if timing.e2e_ms is None else timing.e2e_ms),
        "ttft_ms": ms(timing.ttft_ms),
        "itl_ms_mean": ms(timing.mean_itl_ms),
        "itl_ms_max": ms(max(itl)) if itl else None,
        "output_tokens": timing.output_tokens,
        "prompt_tokens": usage.get("prompt_tokens"),
        # only when the server reports it (priced as cached input)
        **_cached_tokens(usage),
    }


def _json(data: bytes) -> dict[str, Any] | None:
    if data == b"[DONE]":
        return None
    try:
        obj = json.loads(data)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


# --- recording -----------------------------------------------------------------------------
class _TimedStream(httpx2.SyncByteStream):
    """Passes a response's chunks on as they come and notes when each arrived."""

    def __init__(self, inner: httpx2.SyncByteStream, done: Callable[[list[Any]], None]) -> None:
        self.inner = inner
        self.done = done
        self.chunks: list[tuple[int, bytes]] = []
        self.reported = False

    def __iter__(self) -> Iterator[bytes]:
        for part in self.inner:
            self.chunks.append((time.perf_counter_ns(), part))
            yield part
        self._report()

    def _report(self) -> None:
        if not self.reported:
            self.reported = True
            self.done(self.chunks)

    def close(self) -> None:
        self.inner.close()
        self._report()


class RecordingTransport(httpx2.BaseTransport):
    """Wraps a client's transport; files calls made under :func:`capture` with their case."""

    def __init__(self, inner: httpx2.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        rec = _RECORDER.get()
        if rec is None:
            return self.inner.handle_request(request)
        body = request.read()
        sent = time.perf_counter_ns()
        response = self.inner.handle_request(request)
        headers_ns = time.perf_counter_ns()

        def done(chunks: list[tuple[int, bytes]]) -> None:
            content = b"".join(c for _, c in chunks)
            timing = recorded_timing(sent, headers_ns, chunks)
            rec.add(request, body, response, content, timing)

        stream = response.stream
        if not isinstance(stream, httpx2.SyncByteStream):
            raise TypeError(f"httpx2 transport returned a {type(stream).__name__} stream")
        return httpx2.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_TimedStream(stream, done),
            extensions=response.extensions,
            request=request,
        )

    def close(self) -> None:
        self.inner.close()


@contextlib.contextmanager
def capture(recorder: Recorder) -> Iterator[Recorder]:
    """Attribute the calls made in this context (this thread) to ``recorder``."""
    token = _RECORDER.set(recorder)
    try:
        yield recorder
    finally:
        _RECORDER.reset(token)


# --- replay --------------------------------------------------------------------------------
class NoRecording(CassetteError):
    """A request the playing cassette holds no (further) answer for."""


@dataclass
class _Take:
    key: tuple[str, str, str]
    response: dict[str, Any]
    phase: str
    played: bool = False
    # the key without ``stream_options``, and whether the answer is a 400 refusing it
    loose: tuple[str, str, str] = ("", "", "")
    refuses_stream_options: bool = False


def _loose(key: tuple[str, str, str]) -> tuple[str, str, str]:
    """``key`` with ``stream_options`` left out of a JSON body."""
    method, path, body = key
    try:
        data = json.loads(body)
    except ValueError:
        return key
    if not isinstance(data, dict) or "stream_options" not in data:
        return key
    data.pop("stream_options")
    return method, path, canonical_body(json.dumps(data))


def _refuses_stream_options(response: dict[str, Any]) -> bool:
    text = (response.get("body") or {}).get("string") or ""
    return int(response["status"]["code"]) == 400 and "stream_options" in str(text)


class Tape:
    """One cassette, ready to play: each interaction answers one matching request, once.

    A request matches on method, endpoint path (host, port and the base URL's prefix
    ignored) and canonical JSON body: it is fingerprinted by what it sends, nothing else.

    One field is forgiven: ``stream_options``, which only asks for a usage chunk. A client
    stops sending it once a server refuses it (a 400 naming it), so with cases recorded
    side by side, which cassettes hold that 400 and which requests carry the field depends
    on the order the cases happened to run in. A request that matches no recording as
    sent matches one that differs only in ``stream_options``; a request without it passes
    over a recorded refusal of it (that client has learnt already). Replay meets the cases
    in any order.
    """

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        meta = data.get("metadata") or {}
        self.metadata: dict[str, Any] = meta.get("llmkit") or {} if isinstance(meta, dict) else {}
        timings = self.metadata.get("timings") or []
        self.takes: list[_Take] = []
        self._lock = threading.Lock()
        for i, interaction in enumerate(data["interactions"]):
            try:
                req, resp = interaction["request"], interaction["response"]
                key = (
                    str(req["method"]).upper(),
                    endpoint_path(urlsplit(str(req["uri"])).path),
                    canonical_body(req.get("body")),
                )
                if not isinstance(resp.get("body") or {}, dict):
                    raise TypeError("the response's body is not a mapping")
                refuses = _refuses_stream_options(resp)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise CassetteError(f"{path}: malformed interaction {i} ({exc})") from None
            phase = timings[i].get("phase", "case") if i < len(timings) else "case"
            self.takes.append(
                _Take(key, resp, str(phase), loose=_loose(key), refuses_stream_options=refuses)
            )

    @classmethod
    def load(cls, path: Path) -> Tape:
        """The cassette at ``path`` (a :class:`CassetteError` names a missing or bad file)."""
        if not path.is_file():
            raise CassetteError(f"no recording: {path} does not exist")
        return cls(path, load_cassette(path))

    def play(self, request: httpx2.Request) -> httpx2.Response:
        """The recorded answer to ``request`` (each recording answers once, in order)."""
        key = (
            request.method.upper(),
            endpoint_path(request.url.path),
            canonical_body(request.read()),
        )
        with self._lock:  # a tape shared by threads hands each recording out once
            take = self._take(key)
        if take is None:
            raise NoRecording(self._miss(key))
        return _response(take.response, request)

    def _take(self, key: tuple[str, str, str]) -> _Take | None:
        """The first unplayed recording of ``key``, else of it up to ``stream_options``."""
        loose = _loose(key)
        sent_stream_options = loose != key

        def usable(t: _Take) -> bool:
            # a refusal of stream_options answers only a request that still sends it
            return not t.played and (sent_stream_options or not t.refuses_stream_options)

        found = next((i for i, t in enumerate(self.takes) if usable(t) and t.key == key), None)
        if found is None:
            found = next(
                (i for i, t in enumerate(self.takes) if usable(t) and t.loose == loose), None
            )
        if found is None:
            return None  # a miss changes nothing
        if not sent_stream_options:
            for t in self.takes[:found]:
                if not t.played and t.refuses_stream_options and t.loose == loose:
                    t.played = True  # the refusal this client already learnt from
        self.takes[found].played = True
        return self.takes[found]

    def _miss(self, key: tuple[str, str, str]) -> str:
        answered = [t for t in self.takes if t.key == key]
        if not answered:
            return (
                f"no recording in {self.path} matches this request (prompt, settings or "
                "model changed?)"
            )
        last = answered[-1].response
        code = int(last["status"]["code"])
        text = str((last.get("body") or {}).get("string") or "")[:200]
        return (
            f"{self.path} recorded {len(answered)} answer(s) to this request, the last "
            f"HTTP {code} {last['status'].get('message') or ''}: {text!r}; the client asked "
            "again and the cassette holds no further answer"
        )

    def unplayed(self) -> int:
        """Case calls recorded but not made. A scorer's (a judge's) unplayed calls do not
        count: removing a scorer must not force every cassette to be recorded again."""
        return sum(1 for t in self.takes if not t.played and t.phase == "case")

    def all_played(self) -> bool:
        """Whether every recording, a scorer's included, was played."""
        return all(t.played for t in self.takes)


def _response(recorded: dict[str, Any], request: httpx2.Request) -> httpx2.Response:
    headers: list[tuple[str, str]] = []
    for name, values in (recorded.get("headers") or {}).items():
        if name.lower() in ("retry-after", "content-length", "transfer-encoding"):
            continue  # a recorded 429/503 replays at once: the client retries without sleeping
        for value in values if isinstance(values, list) else [values]:
            headers.append((str(name), str(value)))
    body = (recorded.get("body") or {}).get("string") or ""
    ctype = next((v for k, v in headers if k.lower() == "content-type"), "")
    if "text/event-stream" in ctype and isinstance(body, str):
        body = coalesce_sse(body)
    content = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    return httpx2.Response(
        status_code=int(recorded["status"]["code"]),
        headers=headers,
        content=content,
        request=request,
    )


class ReplayTransport(httpx2.BaseTransport):
    """Answers every request from the :class:`Tape` playing in this context; no socket."""

    @contextlib.contextmanager
    def playing(self, tape: Tape) -> Iterator[Tape]:
        """Answer this context's (this thread's) requests from ``tape``."""
        token = _TAPE.set(tape)
        try:
            yield tape
        finally:
            _TAPE.reset(token)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        tape = _TAPE.get()
        if tape is None:
            raise NoRecording("replay: no cassette is playing for this request")
        return tape.play(request)


def unmatched(exc: BaseException | None) -> NoRecording | None:
    """The :class:`NoRecording` behind an error (the SDK wraps what a transport raises)."""
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, NoRecording):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def _cached_tokens(usage: dict[str, Any]) -> dict[str, int]:
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    return {"cached_tokens": cached} if isinstance(cached, int) else {}
