"""The watch event of one finished call, built only when someone observes (see ``_observe``)."""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from llmkit._observe import CallEvent

if TYPE_CHECKING:
    from llmkit._exceptions import LLMCallError
    from llmkit.llm._client import _CallPlan
    from llmkit.llm._result import CallResult

__all__ = ["call_event"]


@functools.lru_cache(maxsize=64)
def _server(base_url: str) -> tuple[str | None, int | None]:
    parts = urlsplit(base_url)
    return parts.hostname, parts.port


def _seconds(ms: float | None) -> float | None:
    return None if ms is None else ms / 1000.0


def call_event(plan: _CallPlan, result: CallResult | None, error: LLMCallError | None) -> CallEvent:
    host, port = _server(plan.owner.endpoint.base_url)
    common: dict[str, Any] = {
        "operation": "chat",
        "server_address": host,
        "server_port": port,
        "request_model": str(plan.request.get("model")),
        "prompt": plan.template,
        "variant": plan.variant,
        "attempts": len(plan.attempts),
        "started_wall": plan.started_wall,
        "messages": plan.request.get("messages") or (),
    }
    if result is None:
        return CallEvent(
            **common,
            streamed=plan.stream,
            response_model=None,
            finish_reason=None,
            input_tokens=None,
            output_tokens=None,
            duration_s=(time.perf_counter_ns() - plan.started_ns) / 1e9,
            ttft_s=None,
            chunk_gaps_s=(),
            tpot_s=None,
            error_type=type(error).__name__ if error is not None else "LLMCallError",
        )
    timing = result.timing
    prompt_tokens = (result.usage or {}).get("prompt_tokens")
    return CallEvent(
        **common,
        streamed=timing.streamed,
        response_model=result.model,
        finish_reason=result.finish_reason,
        input_tokens=prompt_tokens if isinstance(prompt_tokens, int) else None,
        output_tokens=timing.output_tokens,
        duration_s=(timing.e2e_ms or 0.0) / 1000.0,
        ttft_s=_seconds(timing.ttft_ms) if timing.streamed else None,
        chunk_gaps_s=tuple(ms / 1000.0 for ms in timing.icl_ms) if timing.streamed else (),
        tpot_s=_seconds(timing.tpot_ms),
        error_type=None,
        output_text=result.text,
    )
