"""Cassettes: one file per case in vcrpy's format (``version: 1``), read and written here.

A case's interactions are matched on method, endpoint path and canonical body (the
transports that record and replay them live in :mod:`llmkit.evals._transport`). The
timing of every recorded interaction is stored in the cassette's ``metadata`` (vcrpy
keeps it), so a replay reports the recorded timing. Secrets are scrubbed before anything
is written.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from llmkit._exceptions import ConfigError
from llmkit._redact import public_url, redact_text
from llmkit._version import __version__

__all__ = [
    "CassetteError",
    "Recorder",
    "body_matcher",
    "canonical_body",
    "case_timing",
    "cassette_path",
    "coalesce_sse",
    "endpoint_matcher",
    "endpoint_path",
    "load_cassette",
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


def endpoint_path(path: str) -> str:
    # The base URL's own prefix (/v1, /openai/v1, /proxy/...) is not part of the request's
    # identity: a recording made against any URL replays against any other.
    parts = [p for p in path.split("/") if p]
    return "/".join(parts[-2:])


def body_matcher(r1: Any, r2: Any) -> None:
    """vcrpy matcher: same canonical body (raises ``AssertionError`` when not)."""
    assert canonical_body(r1.body) == canonical_body(r2.body), "request bodies differ"


def endpoint_matcher(r1: Any, r2: Any) -> None:
    """vcrpy matcher: same endpoint path, ignoring host, port and the base URL's prefix."""
    assert endpoint_path(r1.path) == endpoint_path(r2.path), f"{r1.path} != {r2.path}"


# --- scrubbing -----------------------------------------------------------------------------
def scrub_uri(uri: str) -> str:
    """Drop credentials in the netloc and secret-looking query parameters."""
    return public_url(uri)


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
    return redact_text(text, *secrets)


# --- timing ----------------------------------------------------------------------------------
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
        **({"cached_tokens": sum(cached)} if cached else {}),  # priced as cached input
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
    if any(not e.startswith("data: ") or "\n" in e.strip() for e in events):
        return body
    datas = [e[6:].strip() for e in events]
    try:  # one parse for the whole stream, not one per event
        parsed = json.loads("[" + ",".join(d for d in datas if d != "[DONE]") + "]")
    except ValueError:
        return body
    if len(parsed) != sum(1 for d in datas if d != "[DONE]"):
        return body  # a data line held more than one value
    objs = iter(parsed)
    for event, data in zip(events, datas, strict=True):
        if data == "[DONE]":
            tail.append(event)
            continue
        obj = next(objs)
        if not isinstance(obj, dict):
            return body
        choices = obj.get("choices")
        if not choices:
            if obj.get("usage") is None:
                return body
            tail.append(event)
            continue
        if (
            not isinstance(choices, list)
            or len(choices) != 1
            or not isinstance(choices[0], dict)
            or choices[0].get("index", 0) != 0
            or tail
        ):
            return body
        delta = choices[0].get("delta") or {}
        if not isinstance(delta, dict):
            return body
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
