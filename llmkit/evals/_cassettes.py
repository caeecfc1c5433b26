"""Cassettes: one vcrpy cassette per case, matched on method, endpoint path and canonical body.

Replay goes through vcrpy (``record_mode="none"``): the openai SDK's ``httpx2`` transport is
patched, so no socket is opened. Recording happens *beneath* any buffering: the ``httpx2``
transport is wrapped so the client still streams, and the arrival time of every byte chunk
is taken as it comes off the socket. From those the TTFT, ITL, E2E and tokens of each
interaction are computed and stored in the cassette's ``metadata`` (vcrpy keeps it), so a
replay reports the recorded timing. Secrets are scrubbed before anything is written.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx2
import yaml

from llmkit._exceptions import ConfigError
from llmkit._version import __version__

__all__ = [
    "CassetteError",
    "Recorder",
    "body_matcher",
    "canonical_body",
    "case_timing",
    "cassette_path",
    "load_cassette",
    "recording",
    "replaying",
    "scrub_headers",
    "scrub_text",
    "scrub_uri",
    "write_cassette",
]

_DROP_HEADERS = re.compile(
    r"^(authorization|proxy-authorization|api-key|x-api-key|cookie|set-cookie|"
    r"openai-organization|openai-project|user-agent|x-stainless-.*|x-request-id|"
    r"date|server|host|content-length|connection|accept-encoding|transfer-encoding|openai-processing-ms|x-ratelimit-.*|cf-.*|traceparent)$",
    re.IGNORECASE,
)
_SECRET_QUERY = re.compile(r"(?i)^(api[-_]?key|key|token|access[-_]?token|secret|password|sig)$")
_SECRET_TEXT = [
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),
    re.compile(r"\bhf_[A-Za-z0-9]{20,}"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
]


class CassetteError(ConfigError):
    """A cassette is missing, unreadable, lacks a recording or was not fully played."""


# --- matching ------------------------------------------------------------------------------
def canonical_body(body: bytes | str | None) -> str:
    """JSON bodies with sorted keys and no spacing; other bodies as text."""
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        return json.dumps(
            json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
    except ValueError:
        return text


def _endpoint(path: str) -> str:
    # The base URL's own prefix (/v1, /openai/v1, /proxy/...) is not part of the request's
    # identity: a recording made against any URL replays against any other.
    parts = [p for p in path.split("/") if p]
    return "/".join(parts[-2:])


def body_matcher(r1: Any, r2: Any) -> None:
    """vcrpy matcher: same canonical body (raises ``AssertionError`` when not)."""
    assert canonical_body(r1.body) == canonical_body(r2.body), "request bodies differ"


def endpoint_matcher(r1: Any, r2: Any) -> None:
    """vcrpy matcher: same endpoint path, ignoring host, port and the base URL's prefix."""
    assert _endpoint(r1.path) == _endpoint(r2.path), f"{r1.path} != {r2.path}"


# --- scrubbing -----------------------------------------------------------------------------
def scrub_uri(uri: str) -> str:
    """Drop credentials in the netloc and secret-looking query parameters."""
    parts = urlsplit(uri)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    query = urlencode(
        [(k, "REDACTED" if _SECRET_QUERY.match(k) else v) for k, v in parse_qsl(parts.query)]
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def scrub_headers(headers: dict[str, Any]) -> dict[str, list[str]]:
    """Headers fit to commit: no credentials, no noisy SDK or server headers."""
    out: dict[str, list[str]] = {}
    for name, values in headers.items():
        if _DROP_HEADERS.match(name):
            continue
        vals = values if isinstance(values, list) else [values]
        out[name.lower()] = [scrub_text(str(v)) for v in vals]
    return out


def scrub_text(text: str, *secrets: str) -> str:
    """Replace known secrets and anything shaped like an API key."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "REDACTED")
    for pattern in _SECRET_TEXT:
        text = pattern.sub("REDACTED", text)
    return text


# --- timing from the byte chunks of one response -------------------------------------------
def _timing(
    sent_ns: int, headers_ns: int, chunks: list[tuple[int, int]], body: bytes
) -> dict[str, Any]:
    """TTFB, TTFT, ITL and E2E (ms) and tokens, from chunk arrival times and the body."""

    def ms(t: int) -> float:
        return round((t - sent_ns) / 1e6, 3)

    end_ns = chunks[-1][0] if chunks else headers_ns
    out: dict[str, Any] = {
        "ttfb_ms": ms(chunks[0][0] if chunks else headers_ns),
        "e2e_ms": ms(end_ns),
    }
    # chunk i covers body[offsets[i-1]:offsets[i]]; an SSE event arrives with the chunk holding its end
    ends, total = [], 0
    for _, n in chunks:
        total += n
        ends.append(total)
    token_times: list[int] = []
    usage: dict[str, Any] = {}
    if body.lstrip().startswith(b"{"):
        try:
            usage = json.loads(body).get("usage") or {}
        except ValueError:
            usage = {}
        token_times = [end_ns]
    else:
        pos, ci = 0, 0
        for event in body.split(b"\n\n"):
            pos += len(event) + 2
            while ci < len(ends) - 1 and ends[ci] < min(pos - 2, total):
                ci += 1
            for line in event.split(b"\n"):
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if data == b"[DONE]":
                    continue
                try:
                    obj = json.loads(data)
                except ValueError:
                    continue
                if obj.get("usage"):
                    usage = obj["usage"]
                for choice in obj.get("choices") or ():
                    delta = choice.get("delta") or {}
                    if (
                        delta.get("content")
                        or delta.get("reasoning_content")
                        or delta.get("reasoning")
                    ):
                        token_times.append(chunks[ci][0] if chunks else end_ns)
    out["ttft_ms"] = ms(token_times[0]) if token_times else None
    gaps = [(b - a) / 1e6 for a, b in itertools.pairwise(token_times)]
    out["itl_ms_mean"] = round(sum(gaps) / len(gaps), 3) if gaps else None
    out["itl_ms_max"] = round(max(gaps), 3) if gaps else None
    out["output_tokens"] = int(
        usage.get("completion_tokens") or len(token_times) if token_times else 0
    )
    out["prompt_tokens"] = usage.get("prompt_tokens")
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
    if cached is not None:  # only when the server reports it (priced as cached input)
        out["cached_tokens"] = cached
    return out


def case_timing(timings: list[dict[str, Any]]) -> dict[str, Any]:
    """One case's timing over its calls: E2E and tokens summed, TTFT of the first call.

    Calls that scorers made (a judge's, ``phase: scorer``) are left out.
    """
    timings = [t for t in timings if t.get("phase", "case") == "case"]
    if not timings:
        return {"calls": 0}
    itls = [t["itl_ms_mean"] for t in timings if t.get("itl_ms_mean") is not None]
    prompt = [t["prompt_tokens"] for t in timings if t.get("prompt_tokens") is not None]
    out_tokens = sum(int(t.get("output_tokens") or 0) for t in timings)
    cached = [int(t["cached_tokens"]) for t in timings if t.get("cached_tokens") is not None]
    return {
        **({"cached_tokens": sum(cached)} if cached else {}),
        "calls": len(timings),
        "ttfb_ms": timings[0].get("ttfb_ms"),
        "ttft_ms": timings[0].get("ttft_ms"),
        "e2e_ms": round(sum(float(t.get("e2e_ms") or 0) for t in timings), 3),
        "itl_ms_mean": round(sum(itls) / len(itls), 3) if itls else None,
        "output_tokens": out_tokens,
        "prompt_tokens": sum(prompt) if prompt else None,
        "total_tokens": out_tokens + sum(prompt) if prompt else out_tokens,
    }


# --- recording -----------------------------------------------------------------------------
@dataclass
class Recorder:
    """Interactions captured for one case (in the order their responses ended)."""

    case: str
    secrets: tuple[str, ...] = ()
    # "case" while the case's own calls run, "scorer" while scorers (a judge) call the model:
    # only the case's calls count towards its latency and tokens
    phase: str = "case"
    interactions: list[dict[str, Any]] = field(default_factory=list)
    timings: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(
        self, request: Any, body: bytes, response: Any, content: bytes, timing: dict[str, Any]
    ) -> None:
        req_body = scrub_text(body.decode("utf-8", "replace"), *self.secrets)
        interaction = {
            "request": {
                "method": request.method,
                "uri": scrub_uri(str(request.url)),
                "body": req_body,
                "headers": scrub_headers({k: [v] for k, v in request.headers.items()}),
            },
            "response": {
                "status": {"code": response.status_code, "message": response.reason_phrase},
                "headers": scrub_headers(_multi(response.headers)),
                "body": {"string": scrub_text(content.decode("utf-8", "replace"), *self.secrets)},
            },
        }
        with self.lock:
            self.interactions.append(interaction)
            self.timings.append({**timing, "phase": self.phase})


def _multi(headers: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in headers.multi_items():
        out.setdefault(k, []).append(v)
    return out


_CURRENT: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar(
    "llmkit_eval_recorder", default=None
)
_PATCH_LOCK = threading.Lock()


class _TimedStream(httpx2.SyncByteStream):
    """Wraps a transport's response stream: passes chunks on and notes when each arrived."""

    def __init__(self, inner: Any, done: Any) -> None:
        self.inner = inner
        self.done = done
        self.chunks: list[tuple[int, int]] = []
        self.parts: list[bytes] = []
        self.reported = False

    def __iter__(self) -> Iterator[bytes]:
        for part in self.inner:
            self.chunks.append((time.perf_counter_ns(), len(part)))
            self.parts.append(part)
            yield part
        self._report()

    def _report(self) -> None:
        if not self.reported:
            self.reported = True
            self.done(self.chunks, b"".join(self.parts))

    def close(self) -> None:
        self.inner.close()
        self._report()


@contextlib.contextmanager
def recording() -> Iterator[None]:
    """Wrap ``httpx2``'s transport for the duration (calls made under :func:`capture`)."""
    original = httpx2.HTTPTransport.handle_request

    def handle_request(self: Any, request: Any) -> Any:
        rec = _CURRENT.get()
        if rec is None:
            return original(self, request)
        body = request.read()
        sent = time.perf_counter_ns()
        response = original(self, request)
        headers_ns = time.perf_counter_ns()

        def done(chunks: list[tuple[int, int]], content: bytes) -> None:
            rec.add(request, body, response, content, _timing(sent, headers_ns, chunks, content))

        response.stream = _TimedStream(response.stream, done)
        return response

    with _PATCH_LOCK:
        httpx2.HTTPTransport.handle_request = handle_request  # type: ignore[method-assign]
    try:
        yield
    finally:
        with _PATCH_LOCK:
            httpx2.HTTPTransport.handle_request = original  # type: ignore[method-assign]


@contextlib.contextmanager
def capture(recorder: Recorder) -> Iterator[Recorder]:
    """Attribute the calls made in this context (this thread) to ``recorder``."""
    token = _CURRENT.set(recorder)
    try:
        yield recorder
    finally:
        _CURRENT.reset(token)


# --- files ---------------------------------------------------------------------------------
def cassette_path(directory: Path, case_id: str) -> Path:
    return directory / f"{case_id}.yaml"


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    pass


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    # multi-line bodies (SSE streams) as readable block scalars
    if "\n" in data and not any(c in data for c in "\r\t"):
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_presenter)


def write_cassette(path: Path, recorder: Recorder, *, suite: str, request_base: str = "") -> None:
    """Write one case's vcrpy cassette (``version: 1``) with timing in ``metadata``."""
    data = {
        "version": 1,
        "interactions": recorder.interactions,
        "metadata": {
            "llmkit": {
                "suite": suite,
                "case": recorder.case,
                "llmkit_version": __version__,
                "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "timings": recorder.timings,
            }
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(
        yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100),
        encoding="utf-8",
    )
    tmp.replace(path)


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_cassette(path: Path) -> dict[str, Any]:
    """A cassette file as a dict (raises :class:`CassetteError` naming the file)."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except OSError as exc:
        raise CassetteError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise CassetteError(f"{path}: not UTF-8 text (byte at offset {exc.start})") from None
    except yaml.YAMLError as exc:
        raise CassetteError(f"{path}: not a valid cassette: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteError(f"{path}: not a vcrpy cassette (no 'interactions' list)")
    for n, interaction in enumerate(data["interactions"], 1):
        response = interaction.get("response") if isinstance(interaction, dict) else None
        status = response.get("status") if isinstance(response, dict) else None
        code = status.get("code") if isinstance(status, dict) else None
        # bool is an int too; an HTTP status is neither text nor a flag.
        if type(code) is not int or not 100 <= code <= 599:
            raise CassetteError(
                f"{path}: interaction {n}: response status code {code!r} is not an HTTP status"
            )
    return data


_DELTA_KEYS = {"role", "content", "reasoning_content", "reasoning"}


def coalesce_sse(body: str) -> str:
    """One SSE stream of a chat completion as a single content delta (same text, same usage).

    The SDK builds a pydantic object per streamed chunk (~0.1-1 ms each); replay hands it
    the recorded answer in one chunk, so a 200-case suite replays in seconds. Latency
    scorers read the recorded timing, not the replay's. Anything unusual (several choices,
    tool calls, unknown fields, malformed events) is left exactly as recorded.
    """
    events = [e for e in body.split("\n\n") if e.strip()]
    if len(events) < 3:
        return body
    first: dict[str, Any] | None = None
    text: dict[str, list[str]] = {}
    finish: Any = None
    tail: list[str] = []
    for event in events:
        if not event.startswith("data: ") or "\n" in event.strip():
            return body
        data = event[6:].strip()
        if data == "[DONE]":
            tail.append(event)
            continue
        try:
            obj = json.loads(data)
        except ValueError:
            return body
        choices = obj.get("choices")
        if not choices:
            if obj.get("usage") is None:
                return body
            tail.append(event)
            continue
        if len(choices) != 1 or choices[0].get("index", 0) != 0 or tail:
            return body
        delta = choices[0].get("delta") or {}
        if set(delta) - _DELTA_KEYS or set(choices[0]) - {
            "index",
            "delta",
            "logprobs",
            "finish_reason",
        }:
            return body
        if choices[0].get("logprobs") is not None:
            return body
        first = first or obj
        for key in ("content", "reasoning_content", "reasoning"):
            if delta.get(key):
                text.setdefault(key, []).append(delta[key])
        finish = choices[0].get("finish_reason") or finish
        if obj.get("usage"):
            tail.insert(0, "data: " + json.dumps({**obj, "choices": []}))
    if first is None:
        return body
    merged_delta: dict[str, Any] = {"role": "assistant", "content": ""}
    merged_delta.update({k: "".join(v) for k, v in text.items()})
    merged = {
        **first,
        "choices": [{"index": 0, "delta": merged_delta, "logprobs": None, "finish_reason": finish}],
    }
    merged.pop("usage", None)
    return "\n\n".join(["data: " + json.dumps(merged), *tail]) + "\n\n"


def _coalesced(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers") or {}
    if any(k.lower() == "retry-after" for k in headers):
        # a recorded 429/503 replays at once: the client retries without sleeping
        headers = {k: v for k, v in headers.items() if k.lower() != "retry-after"}
        response = {**response, "headers": headers}
    ctype = str(headers.get("content-type", [""])[0])
    body = (response.get("body") or {}).get("string")
    if "text/event-stream" not in ctype or not isinstance(body, str):
        return response
    return {**response, "body": {**response["body"], "string": coalesce_sse(body)}}


class _Persister:
    """vcrpy persister reading our cassettes with libyaml; never writes (replay only)."""

    @classmethod
    def load_cassette(cls, cassette_path: str, serializer: Any) -> tuple[Any, ...]:
        from vcr.persisters.filesystem import CassetteNotFoundError
        from vcr.request import Request
        from vcr.serializers import compat

        path = Path(cassette_path)
        if not path.is_file():
            raise CassetteNotFoundError()
        data = load_cassette(path)
        try:
            requests = [Request._from_dict(i["request"]) for i in data["interactions"]]
            responses = [
                compat.convert_to_bytes(_coalesced(i["response"])) for i in data["interactions"]
            ]
        except (KeyError, TypeError) as exc:
            raise CassetteError(f"{path}: malformed interaction ({exc})") from None
        return requests, responses, data.get("metadata") or {}

    @staticmethod
    def save_cassette(cassette_path: str, cassette_dict: Any, serializer: Any) -> None:
        raise CassetteError(f"{cassette_path}: replay never writes cassettes")


_VCR: Any = None


def _vcr() -> Any:
    global _VCR
    if _VCR is None:
        import vcr

        v = vcr.VCR(record_mode="none", match_on=["method", "llmkit_endpoint", "llmkit_body"])
        v.register_matcher("llmkit_endpoint", endpoint_matcher)
        v.register_matcher("llmkit_body", body_matcher)
        v.register_persister(_Persister)
        _VCR = v
    return _VCR


@contextlib.contextmanager
def replaying(path: Path) -> Iterator[Any]:
    """Play one case's cassette; no request reaches the network. Yields the vcrpy cassette."""
    if not path.is_file():
        raise CassetteError(f"no recording: {path} does not exist")
    with _vcr().use_cassette(str(path), allow_playback_repeats=False) as cassette:
        yield cassette


def is_unmatched(exc: BaseException | None) -> bool:
    """Whether an error (or its cause chain) is vcrpy refusing a request it has no recording for."""
    from vcr.errors import CannotOverwriteExistingCassetteException

    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, CannotOverwriteExistingCassetteException):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False
