"""The aiohttp application: endpoints, auth, faults, and writing the streams.

Run it inside an existing event loop with :class:`Engine` (``async with Engine(cfg) as
engine``), or in a background thread / subprocess with ``start_engine`` /
``start_engine_process``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import random
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from llmkit._exceptions import ConfigError
from llmkit.engine._config import EngineConfig, Faults, parse_fault
from llmkit.engine._malform import malform
from llmkit.engine._protocol import (
    Endpoint,
    Framer,
    ParsedRequest,
    RequestError,
    error_body,
    parse_request,
)
from llmkit.engine._scenarios import RenderedAnswer, Scenario, load_scenario, request_seed
from llmkit.engine._scheduler import Scheduler, Segment, Sequence
from llmkit.engine._sendlog import SendLog, SendRecord
from llmkit.engine._tokencache import tokenize_text

__all__ = ["Engine"]

log = logging.getLogger("llmkit.engine")

_GARBAGE = (
    'data: {"id": "broken\n\n',
    "data: <html><body>upstream hiccup</body></html>\n\n",
    "this line is not server-sent events at all\n\n",
    'data: {"choices": [}\n\n',
    "data: ???\n\n",
)
_HTML = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>\n"
_SEEN_MAX = 100_000
_OFF_LOOP_BYTES = 8192


def _parse(raw: bytes, endpoint: Endpoint, max_model_len: int) -> ParsedRequest:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise RequestError(400, "the request body is not valid JSON") from None
    return parse_request(body, endpoint, max_model_len)


@dataclass
class _FaultState:
    faults: Faults
    script: deque[str]


@dataclass(frozen=True)
class _Plan:
    """What one request will get: its answer, limit and fault."""

    answer: RenderedAnswer
    segments: tuple[Segment, ...]
    limit: int
    cycle: bool
    finish_reason: str
    fault: str
    fault_label: str
    malformed: str
    rng: random.Random


class Engine:
    """The embedded OpenAI-compatible engine (async API).

    Endpoints: ``GET /v1/models``, ``POST /v1/chat/completions``, ``POST /v1/completions``,
    ``GET /health``. Behaviour worth knowing when measuring against it:

    - the role-only chunk is written as soon as a streaming request is accepted, before
      it queues for the batch (so TTFB < TTFT under load); text chunks follow the
      scheduler's steps; the last text chunk carries ``finish_reason``;
    - ``continuous_usage_stats`` puts usage so far in every chunk and implies the final
      usage-only chunk;
    - response headers: ``x-llmkit-rule`` (scenario rule used), ``x-llmkit-fault-applied``
      (``cut``/``stall``/``garbage``/``malformed:<class>``) and ``x-llmkit-malformed``;
    - faults: the ``x-llmkit-fault`` request header wins, then the next ``Faults.script``
      entry (consumed only by requests that passed auth and validation), then the rates.

    Args:
        config: engine configuration (defaults to :class:`EngineConfig` defaults).

    Example::

        async with Engine(EngineConfig.zero_delay()) as engine:
            print(engine.base_url)
    """

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self.scenario: Scenario = load_scenario(self.config.scenario)
        self._log = SendLog(keep=self.config.send_log, path=self.config.send_log_path)
        self._state = _FaultState(self.config.faults, deque(self.config.faults.script))
        self._seen: OrderedDict[str, int] = OrderedDict()
        self._models = set(self.config.model_names)
        self._usage = self.config.dialect != "bare"  # a bare server never reports usage
        self.scheduler = Scheduler(self.config, on_idle=self._log.flush)
        self.app = self._build_app()
        self._runner: web.AppRunner | None = None
        self.host = ""
        self.port = 0
        self.requests = 0

    # -- lifecycle ----------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving; returns the base URL (``http://host:port/v1``)."""
        tokenize_text("warm up")  # load the vocabulary now, not in the first request's TTFT
        self.scheduler.start()
        self._runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=2.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, backlog=1024)
        try:
            await site.start()
        except OSError as exc:
            await self.stop()
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        addr = self._runner.addresses[0]  # the bound (host, port, ...) of the listening socket
        self.host, self.port = addr[0], addr[1]
        return self.base_url

    async def stop(self) -> None:
        """Stop serving, cancel running sequences, close the send log file."""
        await self.scheduler.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._log.close()

    async def __aenter__(self) -> Engine:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL to point a client at (ends in ``/v1``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    # -- control ------------------------------------------------------------------
    def send_log(self) -> list[SendRecord]:
        """Every chunk written so far (needs ``EngineConfig(send_log=True)``)."""
        return self._log.records()

    def clear_send_log(self) -> None:
        """Forget the recorded send times (between test phases)."""
        self._log.clear()

    def requests_served(self) -> int:
        """Completion requests that passed auth and validation (injected faults included)."""
        return self.requests

    def set_faults(self, faults: Faults | None = None, **rates: Any) -> None:
        """Replace the fault settings (a fresh ``script`` starts being consumed).

        Pass a :class:`Faults`, or its fields as keywords (``set_faults(http_429=0.5)``).
        """
        if faults is None:
            faults = Faults(**rates)
        elif rates:
            raise TypeError("pass either a Faults value or keyword rates, not both")
        self._state = _FaultState(faults, deque(faults.script))  # one atomic swap

    @property
    def faults(self) -> Faults:
        """The fault-injection settings in force (changeable while serving)."""
        return self._state.faults

    # -- app ----------------------------------------------------------------------
    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=self.config.max_body_bytes, middlewares=[_errors])
        app[_DIALECT] = self.config.dialect
        app.router.add_get("/v1/models", self._models_handler)
        app.router.add_get("/health", self._health)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/completions", self._completions)
        return app

    def _check_auth(self, request: web.Request) -> None:
        key = self.config.api_key
        if key is None:
            return
        got = request.headers.get("Authorization", "")
        scheme, _, token = got.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), key.encode()
        ):
            raise RequestError(
                401,
                "Incorrect or missing API key: send 'Authorization: Bearer <key>'.",
                code="invalid_api_key",
            )

    async def _health(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _models_handler(self, request: web.Request) -> web.Response:
        self._check_auth(request)
        data = [
            {"id": name, "object": "model", "created": 0, "owned_by": "llmkit"}
            for name in self.config.model_names
        ]
        return web.json_response({"object": "list", "data": data})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        return await self._complete(request, "chat")

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        return await self._complete(request, "completions")

    # -- planning -----------------------------------------------------------------
    def _occurrence(self, key: str) -> int:
        n = self._seen.pop(key, 0)
        self._seen[key] = n + 1
        if len(self._seen) > _SEEN_MAX:
            self._seen.popitem(last=False)
        return n

    def _choose_fault(self, request: web.Request, key: str, occurrence: int) -> tuple[str, str]:
        header = request.headers.get("x-llmkit-fault")
        if header:
            try:
                return parse_fault(header)
            except ConfigError as exc:
                raise RequestError(400, str(exc), param="x-llmkit-fault") from None
        state = self._state
        if state.script:
            with contextlib.suppress(IndexError):
                return parse_fault(state.script.popleft())
        faults = state.faults
        if not faults.any_rate:
            return "ok", ""
        rng = random.Random(request_seed(self.config.seed, "fault", key, occurrence))
        for kind, rate in faults.rates:
            if rate > 0 and rng.random() < rate:
                return kind, ""
        return "ok", ""

    def _plan(self, req: ParsedRequest, fault: str, detail: str, occurrence: int) -> _Plan:
        cfg = self.config
        rng = random.Random(request_seed(cfg.seed, req.key))
        answer = self.scenario.answer(
            rng,
            model=req.model,
            endpoint=req.endpoint,
            user=req.user,
            system=req.system,
            every=req.every,
        )
        malformed = ""
        truncates = False
        content = answer.content
        if fault == "malformed":
            mrng = random.Random(request_seed(cfg.seed, "malform", req.key, occurrence))
            content, applied = malform(
                content, answer.format, mrng, detail, self._state.faults.malformed_kinds
            )
            if applied is not None:
                malformed, truncates = applied.name, applied.truncates
        segments: list[Segment] = []
        if answer.reasoning and req.endpoint == "chat":
            if answer.reasoning_style == "field":
                segments.append(
                    Segment(tokenize_text(answer.reasoning), "reasoning_content", "reasoning")
                )
            else:
                segments.append(
                    Segment(
                        tokenize_text(f"<think>\n{answer.reasoning}\n</think>"),
                        "content",
                        "reasoning",
                    )
                )
                content = "\n\n" + content
        cycle = req.ignore_eos and req.max_tokens is not None
        out = tokenize_text(content + "\n\n" if cycle else content)
        segments.append(Segment(out, "content", "output"))
        natural = sum(s.text.total for s in segments) - (
            tokenize_text("\n\n").total if cycle else 0
        )
        if cycle:
            assert req.max_tokens is not None
            limit, finish = req.max_tokens, "length"
        elif req.max_tokens is not None and req.max_tokens < natural:
            limit, finish = req.max_tokens, "length"
        else:
            limit, finish = natural, "length" if truncates else "stop"
        label = (
            f"malformed:{malformed}"
            if malformed
            else ("" if fault in ("ok", "malformed") else fault)
        )
        return _Plan(answer, tuple(segments), limit, cycle, finish, fault, label, malformed, rng)

    # -- the completion endpoints ---------------------------------------------------
    async def _complete(self, request: web.Request, endpoint: Endpoint) -> web.StreamResponse:
        self._check_auth(request)
        limit = self.config.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            # Answered before reading a byte of it: a client announcing 1 GB waits for nothing.
            raise RequestError(
                413, f"request body too large (limit {limit} bytes)", code="request_too_large"
            )
        raw = await request.read()
        if len(raw) >= _OFF_LOOP_BYTES:
            # Parsing and counting a long prompt takes a while: not on the loop that streams
            # every other request's tokens.
            req = await asyncio.to_thread(_parse, raw, endpoint, self.config.max_model_len)
        else:
            req = _parse(raw, endpoint, self.config.max_model_len)
        if self.config.dialect == "bare" and b"stream_options" in raw:
            body = json.loads(raw)  # valid: _parse read it
            if isinstance(body, dict) and "stream_options" in body:
                raise RequestError(
                    400, "Extra inputs are not permitted: stream_options", param="stream_options"
                )
        if req.model not in self._models:
            raise RequestError(
                404,
                f"The model `{req.model}` does not exist. Served: {', '.join(self.config.model_names)}.",
                code="model_not_found",
            )
        self.requests += 1
        occurrence = self._occurrence(req.key)
        fault, detail = self._choose_fault(request, req.key, occurrence)
        rid = ("chatcmpl-" if endpoint == "chat" else "cmpl-") + secrets.token_hex(12)
        if fault in ("429", "500", "non_json"):
            return self._error_fault(request, fault, rid)
        if len(raw) >= _OFF_LOOP_BYTES:  # the answer may echo the prompt: tokenised off the loop
            plan = await asyncio.to_thread(self._plan, req, fault, detail, occurrence)
        else:
            plan = self._plan(req, fault, detail, occurrence)
        headers = {"x-llmkit-rule": plan.answer.rule or "-"}
        if plan.fault_label:
            headers["x-llmkit-fault-applied"] = plan.fault_label
        if plan.malformed:
            headers["x-llmkit-malformed"] = plan.malformed
        framer = Framer(
            req.endpoint,
            rid,
            int(time.time()),
            req.model,
            req.prompt_tokens,
            req.continuous_usage and self._usage,
        )
        seq = Sequence(
            plan.segments,
            plan.limit,
            cycle=plan.cycle,
            framer=framer if req.stream else None,
            tokens_per_chunk=self.config.tokens_per_chunk,
            finish_reason=plan.finish_reason,
            include_usage=(req.include_usage or req.continuous_usage) and self._usage,
            log_meta=self._log.enabled,
            prompt_tokens=req.prompt_tokens,
        )
        try:
            if req.stream:
                return await self._stream(request, seq, framer, plan, headers)
            return await self._whole(request, seq, req, rid, plan, headers)
        finally:
            if not seq.done:
                seq.cancel()

    def _error_fault(self, request: web.Request, fault: str, rid: str) -> web.Response:
        if self._log.enabled:
            self._log.add(time.perf_counter_ns(), rid, 0, [(0, "error", 0)], fault)
        if fault == "429":
            headers = {}
            ra = self._state.faults.retry_after_s
            if ra is not None:
                headers["Retry-After"] = f"{ra:g}"
            return _error_json(
                request,
                error_body(
                    "Rate limit reached (injected by llmkit serve).",
                    "rate_limit_error",
                    "rate_limit_exceeded",
                ),
                429,
                headers,
            )
        if fault == "500":
            return _error_json(
                request,
                error_body(
                    "Internal server error (injected by llmkit serve).",
                    "server_error",
                    "internal_error",
                ),
                500,
            )
        return web.Response(status=200, text=_HTML, content_type="text/html")

    async def _stream(
        self,
        request: web.Request,
        seq: Sequence,
        framer: Framer,
        plan: _Plan,
        headers: dict[str, str],
    ) -> web.StreamResponse:
        resp = web.StreamResponse(
            status=200,
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
                **headers,
            },
        )
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        logging_on = self._log.enabled
        label = plan.fault_label
        rid = framer.response_id
        idx = 0
        if self.config.role_chunk and framer.endpoint == "chat":
            t = time.perf_counter_ns()
            await resp.write(framer.role().encode())
            if logging_on:
                idx = self._log.add(t, rid, idx, [(0, "role", 0)], label)
        self.scheduler.submit(seq)
        try:
            if plan.fault in ("cut", "stall", "garbage"):
                await self._stream_faulty(request, resp, seq, plan, idx)
                if plan.fault == "cut":
                    return resp
            else:
                while True:
                    if not seq.buf:
                        if seq.done:
                            break
                        await seq.wait()
                        continue
                    buf, meta = seq.take()
                    t = time.perf_counter_ns()
                    await resp.write("".join(buf).encode())
                    if meta is not None:
                        idx = self._log.add(t, rid, idx, meta, label)
            await resp.write_eof()
        except ConnectionError:  # the client went away, or the engine is stopping
            seq.cancel()
            resp.force_close()
            if request.transport is not None:
                request.transport.close()
        return resp

    async def _stream_faulty(
        self, request: web.Request, resp: web.StreamResponse, seq: Sequence, plan: _Plan, idx: int
    ) -> None:
        """The slow path: one chunk at a time, so a fault lands at a chosen chunk."""
        rng = random.Random(plan.rng.random())
        est_chunks = max(2, plan.limit // max(1, self.config.tokens_per_chunk))
        at = rng.randint(1, max(1, est_chunks - 1))  # output chunks written before the fault
        garbage_at = set(rng.sample(range(est_chunks + 1), k=min(3, est_chunks + 1)))
        rid = seq.framer.response_id if seq.framer is not None else ""
        logging_on = self._log.enabled
        label = plan.fault_label
        written = 0
        while True:
            if not seq.buf:
                if seq.done:
                    return
                await seq.wait()
                continue
            buf, meta = seq.take()
            for i, event in enumerate(buf):
                if plan.fault == "garbage" and written in garbage_at:
                    garbage_at.discard(written)
                    t = time.perf_counter_ns()
                    await resp.write(rng.choice(_GARBAGE).encode())
                    if logging_on:
                        idx = self._log.add(t, rid, idx, [(0, "garbage", 0)], label)
                if written == at and plan.fault == "cut":
                    seq.cancel()
                    resp.force_close()
                    if request.transport is not None:
                        request.transport.close()  # no terminating chunk: the client sees a cut
                    return
                if written == at and plan.fault == "stall":
                    await asyncio.sleep(self._state.faults.stall_s)
                t = time.perf_counter_ns()
                await resp.write(event.encode())
                if meta is not None:
                    idx = self._log.add(t, rid, idx, [meta[i]], label)
                written += 1

    async def _whole(
        self,
        request: web.Request,
        seq: Sequence,
        req: ParsedRequest,
        rid: str,
        plan: _Plan,
        headers: dict[str, str],
    ) -> web.StreamResponse:
        self.scheduler.submit(seq)
        while not seq.done:
            try:
                await seq.wait()
            except ConnectionError:
                raise RequestError(
                    503, "the engine is shutting down", type="server_error", code="unavailable"
                ) from None
        content = "".join(seq.raw["content"])
        reasoning = "".join(seq.raw["reasoning_content"])
        usage: dict[str, Any] = {
            "prompt_tokens": req.prompt_tokens,
            "completion_tokens": seq.emitted,
            "total_tokens": req.prompt_tokens + seq.emitted,
        }
        if seq.reasoning_tokens:
            usage["completion_tokens_details"] = {"reasoning_tokens": seq.reasoning_tokens}
        created = int(time.time())
        choice: dict[str, Any]
        if req.endpoint == "chat":
            message: dict[str, Any] = {"role": "assistant", "content": content}
            if reasoning:
                message["reasoning_content"] = reasoning
            choice = {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": plan.finish_reason,
            }
            obj = "chat.completion"
        else:
            choice = {
                "index": 0,
                "text": content,
                "logprobs": None,
                "finish_reason": plan.finish_reason,
            }
            obj = "text_completion"
        data = {
            "id": rid,
            "object": obj,
            "created": created,
            "model": req.model,
            "choices": [choice],
            **({"usage": usage} if self._usage else {}),
        }
        text = json.dumps(data, ensure_ascii=False)
        if plan.fault == "stall":
            await asyncio.sleep(self._state.faults.stall_s)
        elif plan.fault == "garbage":
            text = text[: len(text) // 2] + "\x00<garbage>" + text[len(text) // 2 :]
        t = time.perf_counter_ns()
        if self._log.enabled:
            self._log.add(t, rid, 0, [(seq.emitted, "body", 0)], plan.fault_label)
        if plan.fault == "cut":
            resp = web.StreamResponse(status=200, headers=headers)
            raw = text.encode()
            resp.content_length = len(raw)
            resp.content_type = "application/json"
            await resp.prepare(request)
            await resp.write(raw[: len(raw) // 2])
            resp.force_close()
            if request.transport is not None:
                request.transport.close()
            return resp
        return web.Response(text=text, content_type="application/json", headers=headers)


_DIALECT = web.AppKey("llmkit_dialect", str)


def _error_json(
    request: web.Request, body: dict[str, Any], status: int, headers: Any = None
) -> web.Response:
    """An error response in the server's dialect (``bare``: FastAPI's ``{"detail": ...}``)."""
    if request.app.get(_DIALECT) == "bare":
        body = {"detail": body["error"]["message"]}
    return web.json_response(body, status=status, headers=headers)


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every error as OpenAI-shaped JSON; never a traceback to the client."""
    try:
        resp: web.StreamResponse = await handler(request)
        return resp
    except RequestError as exc:
        return _error_json(
            request, error_body(exc.message, exc.type, exc.code, exc.param), exc.status
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        msg = exc.reason
        if exc.status == 413:
            msg = f"request body too large (limit {request.app._client_max_size} bytes)"
        etype = "invalid_request_error" if exc.status < 500 else "server_error"
        keep = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        return _error_json(
            request, error_body(msg, etype, exc.reason.lower().replace(" ", "_")), exc.status, keep
        )
    except (asyncio.CancelledError, ConnectionError):
        raise
    except Exception:
        log.exception("llmkit engine: unexpected error on %s %s", request.method, request.path)
        return _error_json(
            request,
            error_body("internal error in llmkit serve", "server_error", "internal_error"),
            500,
        )
