"""Folding one attempt's response (streamed chunks or a whole body) into text, usage and timing.

Shared by the sync and async clients: they differ only in how they iterate.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

from llmkit._exceptions import BadResponseError
from llmkit.llm._errors import AttemptFailed
from llmkit.timing import StreamTimer, Timing

__all__ = ["AttemptState"]


def _reasoning_of(delta: Any) -> str:
    # Servers name it differently: vLLM/DeepSeek `reasoning_content`, others `reasoning`.
    for name in ("reasoning_content", "reasoning"):
        value = getattr(delta, name, None)
        if isinstance(value, str) and value:
            return value
    return ""


@dataclass
class AttemptState:
    """Everything observed during one attempt. Hot path: append and compare only."""

    sent_ns: int
    timer: StreamTimer = field(init=False)
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    response_id: str | None = None
    model: str | None = None
    status: int | None = None
    _last_completion_tokens: int = 0
    _continuous_usage: bool = False

    def __post_init__(self) -> None:
        self.timer = StreamTimer(sent_ns=self.sent_ns)

    # -- streaming ---------------------------------------------------------------------------
    def on_headers(self) -> None:
        self.timer.byte(time.perf_counter_ns())

    def on_chunk(self, chunk: Any) -> str:
        """Fold one ``ChatCompletionChunk``; return the output text it released."""
        now = time.perf_counter_ns()
        if self.response_id is None:
            self.response_id = getattr(chunk, "id", None)
            self.model = getattr(chunk, "model", None)
        usage = getattr(chunk, "usage", None)
        chunk_tokens: int | None = None
        if usage is not None:
            self.usage = usage.model_dump() if hasattr(usage, "model_dump") else dict(usage)
            done = int(self.usage.get("completion_tokens") or 0)
            chunk_tokens = done - self._last_completion_tokens
            self._last_completion_tokens = done
        choices = getattr(chunk, "choices", None) or []
        if not choices:
            return ""
        if usage is not None:
            self._continuous_usage = True
        choice = choices[0]
        if choice.finish_reason:
            self.finish_reason = choice.finish_reason
        delta = choice.delta
        if delta is None:
            return ""
        tokens = chunk_tokens if self._continuous_usage else None
        return self.timer.feed(now, delta.content, _reasoning_of(delta), tokens)

    def end_of_stream(self) -> str:
        """The stream ended; return output text that was still held back."""
        rest = self.timer.end(time.perf_counter_ns())
        if self.finish_reason is None:
            # A clean close without a finish_reason is a cut stream, not an answer.
            raise AttemptFailed(
                BadResponseError, "stream ended before the answer finished", retryable=True
            )
        return rest

    # -- non-streaming -----------------------------------------------------------------------
    def on_completion(self, completion: Any) -> None:
        # The SDK returns once the whole body is read: TTFB = TTFT = E2E here.
        now = time.perf_counter_ns()
        self.timer.byte(now)
        choices = getattr(completion, "choices", None)
        if not choices:
            raise AttemptFailed(
                BadResponseError, "response has no choices (not a chat completion?)", False
            )
        self.response_id = getattr(completion, "id", None)
        self.model = getattr(completion, "model", None)
        message = choices[0].message
        self.finish_reason = choices[0].finish_reason
        usage = getattr(completion, "usage", None)
        if usage is not None:
            self.usage = usage.model_dump() if hasattr(usage, "model_dump") else dict(usage)
        self.timer.feed(now, message.content or "", _reasoning_of(message))
        self.timer.end(now)

    # -- results -----------------------------------------------------------------------------
    @property
    def text(self) -> str:
        return "".join(self.timer.chunk_texts)

    @property
    def reasoning(self) -> str:
        return "".join(self.timer.reasoning_texts)

    def timing(self, *, streamed: bool, sent_ns: int | None = None) -> Timing:
        """Timing relative to this attempt's send, or to ``sent_ns`` (the call's start)."""
        usage_tokens = reasoning_tokens = None
        if self.usage and self.usage.get("completion_tokens") is not None:
            usage_tokens = int(self.usage["completion_tokens"])
            details = self.usage.get("completion_tokens_details") or {}
            if isinstance(details, dict) and details.get("reasoning_tokens") is not None:
                reasoning_tokens = int(details["reasoning_tokens"])
        timer = self.timer
        if sent_ns is not None:
            timer = dataclasses.replace(timer, sent_ns=sent_ns)
        end = None if streamed else timer.first_byte_ns
        return timer.finish(
            usage_tokens=usage_tokens,
            reasoning_tokens=reasoning_tokens,
            streamed=streamed,
            end_ns=end,
        )
