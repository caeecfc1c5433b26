"""The OpenAI wire format: request validation and pre-built response chunks.

Streaming chunks are spliced from string templates built once per response, so the
hot path never calls ``json.dumps``: a token's JSON-escaped text (cached with the
answer) goes between a fixed head and tail.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any, Literal

from llmkit._tokens import count_tokens

__all__ = [
    "DONE",
    "Endpoint",
    "Framer",
    "ParsedRequest",
    "RequestError",
    "error_body",
    "parse_request",
]

Endpoint = Literal["chat", "completions"]

DONE = "data: [DONE]\n\n"
_MAX_MESSAGES = 10_000


class RequestError(Exception):
    """A request the engine refuses, with its HTTP status and OpenAI error fields."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        type: str = "invalid_request_error",
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.type = type
        self.param = param


def error_body(
    message: str, type: str, code: str | None, param: str | None = None
) -> dict[str, Any]:
    """The OpenAI error shape ``{"error": {"message", "type", "param", "code"}}``."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


@functools.lru_cache(maxsize=4096)
def _count_cached(text: str) -> int:
    return count_tokens(text)


def _count(text: str) -> int:
    # Only short texts are cached: 4096 prompts of a few MB each would hold gigabytes.
    return _count_cached(text) if len(text) <= 4096 else count_tokens(text)


@dataclass(frozen=True)
class ParsedRequest:
    """A validated completion request.

    Attributes:
        endpoint: ``chat`` or ``completions``.
        model: the requested model.
        user: the last user message (the prompt for completions).
        system: system messages joined.
        every: all message texts joined.
        key: the request content that seeds its RNG (messages, model, request seed).
        stream: stream with SSE.
        include_usage: ``stream_options.include_usage``.
        continuous_usage: ``stream_options.continuous_usage_stats``.
        max_tokens: ``max_completion_tokens`` or ``max_tokens`` (``None`` if unset).
        ignore_eos: keep generating until ``max_tokens``.
        prompt_tokens: cl100k count of the prompt (OpenAI chat framing for chat).
    """

    endpoint: Endpoint
    model: str
    user: str
    system: str
    every: str
    key: str
    stream: bool
    include_usage: bool
    continuous_usage: bool
    max_tokens: int | None
    ignore_eos: bool
    prompt_tokens: int


def _bool(body: dict[str, Any], name: str, default: bool = False) -> bool:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise RequestError(400, f"'{name}' must be a boolean", param=name)
    return value


def _int(body: dict[str, Any], name: str, lo: int, hi: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestError(400, f"'{name}' must be an integer", param=name)
    if not lo <= value <= hi:
        raise RequestError(400, f"'{name}' must be between {lo} and {hi}, got {value}", param=name)
    return value


def _text_of(content: Any, where: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if not isinstance(part, dict):
                raise RequestError(400, f"{where}: content parts must be objects", param="messages")
            if part.get("type") == "text":
                text = part.get("text")
                if not isinstance(text, str):
                    raise RequestError(
                        400, f"{where}: a text part needs a string 'text'", param="messages"
                    )
                parts.append(text)
        return "\n".join(parts)
    raise RequestError(
        400, f"{where}: 'content' must be a string or a list of parts", param="messages"
    )


def parse_request(body: Any, endpoint: Endpoint, max_model_len: int) -> ParsedRequest:
    """Validate a decoded JSON body.

    Raises:
        RequestError: 400 with a message naming the offending field.
    """
    if not isinstance(body, dict):
        raise RequestError(400, "the request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError(400, "'model' is required and must be a string", param="model")
    n = _int(body, "n", 1, 128)
    if n not in (None, 1):
        raise RequestError(400, "only n=1 is supported", param="n")
    max_tokens = _int(body, "max_completion_tokens", 1, max_model_len)
    if max_tokens is None:
        max_tokens = _int(body, "max_tokens", 1, max_model_len)
    seed = _int(body, "seed", -(2**63), 2**64)
    stream = _bool(body, "stream")
    opts = body.get("stream_options")
    if opts is not None and not isinstance(opts, dict):
        raise RequestError(400, "'stream_options' must be an object", param="stream_options")
    opts = opts or {}
    include_usage = _bool(opts, "include_usage")
    continuous = _bool(opts, "continuous_usage_stats")
    ignore_eos = _bool(body, "ignore_eos")

    if endpoint == "chat":
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise RequestError(
                400, "'messages' is required and must be a non-empty list", param="messages"
            )
        if len(messages) > _MAX_MESSAGES:
            raise RequestError(
                400, f"too many messages (at most {_MAX_MESSAGES})", param="messages"
            )
        pairs: list[tuple[str, str]] = []
        for i, msg in enumerate(messages):
            where = f"messages[{i}]"
            if not isinstance(msg, dict):
                raise RequestError(400, f"{where} must be an object", param="messages")
            role = msg.get("role")
            if not isinstance(role, str) or not role:
                raise RequestError(400, f"{where} needs a string 'role'", param="messages")
            pairs.append((role, _text_of(msg.get("content"), where)))
        users = [t for r, t in pairs if r == "user"]
        user = users[-1] if users else pairs[-1][1]
        system = "\n".join(t for r, t in pairs if r in ("system", "developer"))
        every = "\n".join(t for _, t in pairs)
        prompt_tokens = 3 + sum(4 + _count(t) for _, t in pairs)
        key = json.dumps([model, pairs, seed], ensure_ascii=False)
    else:
        prompt = body.get("prompt")
        if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
            prompt = prompt[0]
        if isinstance(prompt, str):
            prompt_tokens = max(1, _count(prompt))
        elif (
            isinstance(prompt, list)
            and prompt
            and all(isinstance(t, int) and not isinstance(t, bool) for t in prompt)
        ):
            prompt_tokens = len(prompt)
            prompt = " ".join(map(str, prompt))
        else:
            raise RequestError(
                400,
                "'prompt' is required: a string, a one-string list or a list of token ids",
                param="prompt",
            )
        user = every = prompt
        system = ""
        key = json.dumps([model, prompt, seed], ensure_ascii=False)
    return ParsedRequest(
        endpoint=endpoint,
        model=model,
        user=user,
        system=system,
        every=every,
        key=key,
        stream=stream,
        include_usage=include_usage,
        continuous_usage=continuous,
        max_tokens=max_tokens,
        ignore_eos=ignore_eos,
        prompt_tokens=prompt_tokens,
    )


class Framer:
    """Builds one response's SSE events from templates made once.

    Args:
        endpoint: ``chat`` or ``completions``.
        response_id: the id in every chunk.
        created: unix seconds.
        model: the model name echoed back.
        prompt_tokens: for usage.
        continuous_usage: put usage so far in every chunk.
    """

    __slots__ = (
        "_end",
        "_heads",
        "_open",
        "_tail",
        "continuous",
        "endpoint",
        "prompt_tokens",
        "response_id",
    )

    def __init__(
        self,
        endpoint: Endpoint,
        response_id: str,
        created: int,
        model: str,
        prompt_tokens: int,
        continuous_usage: bool,
    ) -> None:
        self.endpoint = endpoint
        self.response_id = response_id
        self.prompt_tokens = prompt_tokens
        self.continuous = continuous_usage
        obj = "chat.completion.chunk" if endpoint == "chat" else "text_completion"
        self._open = (
            f'data: {{"id":"{response_id}","object":"{obj}","created":{created},'
            f'"model":{json.dumps(model, ensure_ascii=False)},"choices":['
        )
        if endpoint == "chat":
            self._heads = {
                "content": self._open + '{"index":0,"delta":{"content":"',
                "reasoning_content": self._open + '{"index":0,"delta":{"reasoning_content":"',
            }
            self._tail = '"},"logprobs":null,"finish_reason":'
        else:
            head = self._open + '{"index":0,"text":"'
            self._heads = {"content": head, "reasoning_content": head}
            self._tail = '","logprobs":null,"finish_reason":'
        self._end = "}\n\n"

    def _usage(self, completion: int, reasoning: int = 0) -> str:
        p = self.prompt_tokens
        details = (
            f',"completion_tokens_details":{{"reasoning_tokens":{reasoning}}}' if reasoning else ""
        )
        return (
            f'"usage":{{"prompt_tokens":{p},"completion_tokens":{completion},'
            f'"total_tokens":{p + completion}{details}}}'
        )

    def role(self) -> str:
        """The role-only first chunk (chat only)."""
        usage = "," + self._usage(0) if self.continuous else ""
        return (
            self._open
            + '{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]'
            + usage
            + self._end
        )

    def text(
        self, field: str, escaped: str, completion_tokens: int, finish: str | None = None
    ) -> str:
        """A chunk carrying text; ``escaped`` is already JSON-escaped."""
        fin = "null}]" if finish is None else f'"{finish}"}}]'
        if self.continuous:
            return (
                self._heads[field]
                + escaped
                + self._tail
                + fin
                + ","
                + self._usage(completion_tokens)
                + self._end
            )
        return self._heads[field] + escaped + self._tail + fin + self._end

    def usage(self, completion_tokens: int, reasoning_tokens: int = 0) -> str:
        """The final usage-only chunk (``choices: []``)."""
        return self._open + "]," + self._usage(completion_tokens, reasoning_tokens) + self._end
