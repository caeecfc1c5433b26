"""Re-prompt last: call the model again only when the whole pipeline failed."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from llmkit.structured._instructions import hint_lines
from llmkit.structured._pipeline import parse
from llmkit.structured._result import StructuredResult

__all__ = ["AsyncCallFn", "CallFn", "arun_structured", "reprompt_message", "run_structured"]

Messages = list[dict[str, Any]]
CallFn = Callable[[Messages], tuple[str, "str | None", int]]
AsyncCallFn = Callable[[Messages], Awaitable[tuple[str, "str | None", int]]]


def reprompt_message(
    result: StructuredResult, format: str = "yaml", hints: bool | Iterable[str] = True
) -> str:
    """The user turn that asks the model to fix its answer: error plus a short hint."""
    name = "JSON" if format == "json" else "YAML"
    lines = [f"Your answer could not be used: {result.error or 'it could not be parsed'}."]
    if result.truncated:
        lines.append("It was cut off: answer shorter, with only the fields asked for.")
    chosen = [r for r in result.repairs] if hints is True else (list(hints) if hints else [])
    extra = hint_lines(chosen or None, format=format)[:3] if hints else []
    lines.extend(extra)
    lines.append(f"Reply again with the corrected {name} only, no explanations.")
    return "\n".join(lines)


def _merge(
    result: StructuredResult, attempts: int, tokens: int, history: list[dict[str, Any]]
) -> StructuredResult:
    stage = result.stage
    if result.ok and attempts > 1:
        stage = "reprompted"
    return dataclasses.replace(
        result, stage=stage, attempts=attempts, tokens=tokens, history=tuple(history)
    )


def run_structured(
    call: CallFn,
    messages: Messages,
    schema: Any = None,
    *,
    format: str = "yaml",
    max_attempts: int = 3,
    max_total_tokens: int = 20_000,
    hints: bool | Iterable[str] = True,
    diff: bool = False,
) -> StructuredResult:
    """Call the model, parse, and re-prompt only when the pipeline failed.

    Args:
        call: ``call(messages) -> (text, finish_reason, tokens_used)`` (the client's).
        messages: the conversation so far (not modified).
        schema: what the answer must fit.
        format: ``"yaml"``, ``"json"`` or ``"auto"``.
        max_attempts: model calls at most.
        max_total_tokens: no new call once this many tokens were spent.
        hints: hint lines added to a re-prompt (``True``: those of the rules involved).
        diff: include the repair diff in the result.

    Returns:
        The last result; ``stage == "reprompted"`` when a later attempt succeeded.
    """
    convo = list(messages)
    tokens = 0
    history: list[dict[str, Any]] = []
    result: StructuredResult | None = None
    for attempt in range(1, max(1, max_attempts) + 1):
        text, finish, used = call(convo)
        tokens += int(used or 0)
        result = parse(text, schema, format=format, finish_reason=finish, diff=diff)
        history.append(
            {
                "attempt": attempt,
                "stage": result.stage,
                "error": result.error,
                "tokens": int(used or 0),
            }
        )
        if result.ok or attempt >= max_attempts or tokens >= max_total_tokens:
            return _merge(result, attempt, tokens, history)
        convo = [
            *convo,
            {"role": "assistant", "content": text},
            {"role": "user", "content": reprompt_message(result, format, hints)},
        ]
    assert result is not None  # pragma: no cover
    return result


async def arun_structured(
    call: AsyncCallFn,
    messages: Messages,
    schema: Any = None,
    *,
    format: str = "yaml",
    max_attempts: int = 3,
    max_total_tokens: int = 20_000,
    hints: bool | Iterable[str] = True,
    diff: bool = False,
) -> StructuredResult:
    """Async twin of :func:`run_structured` for an ``async`` ``call``."""
    convo = list(messages)
    tokens = 0
    history: list[dict[str, Any]] = []
    result: StructuredResult | None = None
    for attempt in range(1, max(1, max_attempts) + 1):
        text, finish, used = await call(convo)
        tokens += int(used or 0)
        result = parse(text, schema, format=format, finish_reason=finish, diff=diff)
        history.append(
            {
                "attempt": attempt,
                "stage": result.stage,
                "error": result.error,
                "tokens": int(used or 0),
            }
        )
        if result.ok or attempt >= max_attempts or tokens >= max_total_tokens:
            return _merge(result, attempt, tokens, history)
        convo = [
            *convo,
            {"role": "assistant", "content": text},
            {"role": "user", "content": reprompt_message(result, format, hints)},
        ]
    assert result is not None  # pragma: no cover
    return result
