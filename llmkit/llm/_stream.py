"""Folding one attempt's response (streamed chunks or a whole body) into text, usage and timing.

Shared by the sync and async clients: they differ only in how they iterate.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from typing import Any

from llmkit._exceptions import BadResponseError
from llmkit._tokens import count_tokens_within
from llmkit.llm._deadline import Budget
from llmkit.llm._errors import AttemptFailed, in_band_error
from llmkit.timing import StreamTimer, Timing

__all__ = ["AttemptState", "is_json", "media_type"]


_NO_OBJECT = (str, int, float, bool, list, tuple)
# The largest token count believed: 1e30 is noise, and would not fit the call log's integers.
MAX_COUNT = 2**53
# Counting this much text offline takes long enough (~1-2 ms per KB at worst) that the
# async client does it on a worker thread rather than on the event loop.
HEAVY_COUNT_CHARS = 4096
# Counting is linear but pure Python (up to ~2 ms per KB): a 20 MB answer would take 40 s.
EXACT_COUNT_CHARS = 1_000_000


def media_type(content_type: str | None) -> str:
    """``application/json`` of ``Application/JSON; charset=utf-8``."""
    return (content_type or "").split(";")[0].strip().lower()


def is_json(content_type: str | None) -> bool:
    kind = media_type(content_type)
    return kind == "application/json" or kind.endswith("+json")


def _bad(where: str, value: Any, expected: str) -> AttemptFailed:
    # A server that sends a wrong shape sends it again: not retried.
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return AttemptFailed(
        BadResponseError,
        f"malformed response: {where} is {type(value).__name__} {shown}, expected {expected}",
        retryable=False,
    )


def _str_field(obj: Any, name: str, where: str) -> str | None:
    value = getattr(obj, name, None)
    if value is None or isinstance(value, str):
        return value
    raise _bad(f"{where}.{name}", value, "a string or null")


def _object(value: Any, where: str) -> Any:
    if value is None or isinstance(value, _NO_OBJECT):
        raise _bad(where, value, "an object")
    return value


def _count(value: Any, where: str) -> int | None:
    if value is None or (
        isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT
    ):
        return value
    raise _bad(where, value, "a token count (0 to 2**53) or null")


def _usage_dict(usage: Any, where: str) -> dict[str, Any]:
    """The usage object as a dict, its token counts checked (pydantic does not check them)."""
    if isinstance(usage, dict):
        data = dict(usage)
    elif hasattr(usage, "model_dump"):
        data = usage.model_dump(warnings=False)
    else:
        raise _bad(where, usage, "an object")
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        _count(data.get(key), f"{where}.{key}")
    details = data.get("completion_tokens_details")
    if details is not None:
        if not isinstance(details, dict):
            raise _bad(f"{where}.completion_tokens_details", details, "an object")
        _count(
            details.get("reasoning_tokens"), f"{where}.completion_tokens_details.reasoning_tokens"
        )
    return data


def _choices(obj: Any, where: str) -> list[Any]:
    choices = getattr(obj, "choices", None)
    if choices is None:
        return []
    if not isinstance(choices, list):
        raise _bad(f"{where}.choices", choices, "a list")
    return choices


def _show(body: str) -> str:
    """A body's start, for a message: what the server sent instead of the answer."""
    text = " ".join(body.split())
    if not text:
        return "an empty body"
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _no_choices(body: Any) -> AttemptFailed:
    """Why a body without choices is not an answer: the server's own error, if it sent one."""
    error = getattr(body, "error", None)
    if error:
        return in_band_error(error)
    return AttemptFailed(
        BadResponseError, "response has no choices (not a chat completion?)", False
    )


def _first_choice(choices: list[Any], where: str) -> Any:
    """The choice with index 0 (a missing index counts as 0); ``None`` if this chunk has none.

    With ``n`` > 1 a server interleaves the choices' chunks: only the first is the answer.
    """
    for i, choice in enumerate(choices):
        choice = _object(choice, f"{where}.choices[{i}]")
        if getattr(choice, "index", None) in (0, None):
            return choice
    return None


def _reasoning_of(delta: Any, where: str) -> str:
    # Servers name it differently: vLLM/DeepSeek `reasoning_content`, others `reasoning`.
    for name in ("reasoning_content", "reasoning"):
        value = _str_field(delta, name, where)
        if value:
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
    budget: Budget | None = None
    _last_completion_tokens: int = 0
    _saw_choice: bool = False
    _continuous_usage: bool = False
    _counts: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.timer = StreamTimer(sent_ns=self.sent_ns)

    # -- streaming ---------------------------------------------------------------------------
    def on_headers(self, content_type: str | None = None) -> str | None:
        """The response began. A 200 that is not an event stream (a proxy's login page)
        is named as such, not taken for a stream cut before its answer; returns
        ``content_type`` (a JSON one is read as one body, see :meth:`on_json_answer`).

        Raises:
            AttemptFailed: (``BadResponseError``) the body is HTML or plain text.
        """
        self.timer.byte(time.perf_counter_ns())
        kind = media_type(content_type)
        if kind.startswith("text/") and kind != "text/event-stream":
            raise AttemptFailed(
                BadResponseError,
                f"expected an event stream (text/event-stream), got a {kind} body",
                retryable=False,
            )
        return content_type

    def on_json_answer(self, body: bytes) -> str:
        """A stream request answered with one JSON body (the server ignored ``stream``):
        take it as the body it is, not as an event stream with no events; return its text.

        Raises:
            AttemptFailed: (``BadResponseError``) not JSON, not a chat completion, or an error.
        """
        try:
            data = json.loads(body)
        except ValueError as exc:  # UnicodeDecodeError included
            raise AttemptFailed(
                BadResponseError, f"response is not valid JSON ({exc})"[:300], False
            ) from None
        if not isinstance(data, dict):
            raise _bad("response", data, "an object")
        from openai._models import construct_type  # how the SDK builds a non-streamed body
        from openai.types.chat import ChatCompletion

        self.on_completion(construct_type(value=data, type_=ChatCompletion))
        self._saw_choice = True
        return self.text

    def on_chunk(self, chunk: Any) -> str:
        """Fold one ``ChatCompletionChunk``; return the output text it released.

        Raises:
            AttemptFailed: (``BadResponseError``) a field holds the wrong JSON type.
        """
        now = time.perf_counter_ns()
        _object(chunk, "chunk")  # `data: [1, 2]`, `data: 42`, `data: null`
        if self.response_id is None:
            self.response_id = _str_field(chunk, "id", "chunk")
            self.model = _str_field(chunk, "model", "chunk")
        usage = getattr(chunk, "usage", None)
        chunk_tokens: int | None = None
        if usage is not None:
            self.usage = _usage_dict(usage, "chunk.usage")
            done = int(self.usage.get("completion_tokens") or 0)
            chunk_tokens = done - self._last_completion_tokens
            self._last_completion_tokens = done
        choices = _choices(chunk, "chunk")
        if not choices:
            if usage is not None:
                self.progressed()
            return ""
        if usage is not None:
            self._continuous_usage = True
        choice = _first_choice(choices, "chunk")
        if choice is None:  # another choice's chunk (n > 1): data, not the answer
            self.progressed()
            return ""
        self._saw_choice = True
        finish = _str_field(choice, "finish_reason", "chunk.choices[0]")
        if finish:
            self.finish_reason = finish
            if self.budget is not None:
                self.budget.answer_finished()
        delta = getattr(choice, "delta", None)
        if delta is None:
            if finish:
                self.progressed()
            return ""
        delta = _object(delta, "chunk.choices[0].delta")
        content = _str_field(delta, "content", "chunk.choices[0].delta")
        reasoning = _reasoning_of(delta, "chunk.choices[0].delta")
        if content or reasoning or finish or usage is not None:
            self.progressed()
        tokens = chunk_tokens if self._continuous_usage else None
        return self.timer.feed(now, content, reasoning, tokens)

    def progressed(self) -> None:
        """A chunk carried data: the stall timer starts again (comments never get here)."""
        if self.budget is not None:
            self.budget.progress()

    def end_of_stream(self, done: bool = False) -> str:
        """The stream ended (``done``: with ``data: [DONE]``); return held-back text.

        A stream that ends with ``[DONE]`` but no ``finish_reason`` is complete, its
        finish reason unknown (``None``), as the SDK takes it.
        """
        rest = self.timer.end(time.perf_counter_ns())
        if self.finish_reason is None and not done:
            # A clean close without [DONE] or a finish_reason is a cut stream, not an answer.
            raise AttemptFailed(
                BadResponseError, "stream ended before the answer finished", retryable=True
            )
        if not self._saw_choice:
            # [DONE] after no choice at all: not an empty answer but no answer (chunks
            # without `choices`, or lines that are not `data:` ones).
            raise AttemptFailed(
                BadResponseError,
                "stream ended with [DONE] but carried no choice (not a chat completion stream?)",
                retryable=False,
            )
        return rest

    # -- non-streaming -----------------------------------------------------------------------
    def on_completion(self, completion: Any) -> None:
        # The SDK returns once the whole body is read: TTFB = TTFT = E2E here.
        now = time.perf_counter_ns()
        self.timer.byte(now)
        if isinstance(completion, str):  # the SDK hands over a body it could not take as JSON
            raise AttemptFailed(
                BadResponseError,
                f"expected a chat completion (a JSON object), got {_show(completion)}",
                False,
            )
        _object(completion, "response")
        choices = _choices(completion, "response")
        if not choices:
            raise _no_choices(completion)
        self.response_id = _str_field(completion, "id", "response")
        self.model = _str_field(completion, "model", "response")
        choice = _object(choices[0], "response.choices[0]")
        message = _object(getattr(choice, "message", None), "response.choices[0].message")
        self.finish_reason = _str_field(choice, "finish_reason", "response.choices[0]")
        usage = getattr(completion, "usage", None)
        if usage is not None:
            self.usage = _usage_dict(usage, "response.usage")
        content = _str_field(message, "content", "response.choices[0].message")
        reasoning = _reasoning_of(message, "response.choices[0].message")
        self.timer.feed(now, content or "", reasoning)
        self.timer.end(now)

    # -- results -----------------------------------------------------------------------------
    @property
    def text(self) -> str:
        return "".join(self.timer.chunk_texts)

    @property
    def reasoning(self) -> str:
        return "".join(self.timer.reasoning_texts)

    def count(self, text: str) -> int:
        """Offline tokens of ``text``: each text once per attempt, never past the call's
        deadline (an estimate from what was counted by then), and beyond
        :data:`EXACT_COUNT_CHARS` extrapolated (the source is approximate in any case)."""
        known = self._counts.get(text)
        if known is None:
            deadline = self.budget.deadline if self.budget is not None else None
            head = text[:EXACT_COUNT_CHARS]  # beyond it, the rest is extrapolated
            known, _exact = count_tokens_within(head, deadline)
            if len(text) > len(head):
                known = round(known * len(text) / len(head))
            self._counts[text] = known
        return known

    def counting_is_heavy(self) -> bool:
        """Whether :meth:`timing` would count enough text to be kept off an event loop."""
        if self.usage and self.usage.get("completion_tokens") is not None:
            return False  # the server's figure is used, nothing is counted
        chars = sum(map(len, self.timer.chunk_texts)) + sum(map(len, self.timer.reasoning_texts))
        return chars >= HEAVY_COUNT_CHARS

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
            count=self.count,
        )
