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


class _Loop:
    """The re-prompt loop without its I/O, shared by the sync and async drivers."""

    def __init__(
        self,
        messages: Messages,
        schema: Any,
        format: str,
        max_attempts: int,
        max_total_tokens: int,
        hints: bool | Iterable[str],
        diff: bool,
    ) -> None:
        self.convo = list(messages)
        self.schema, self.format, self.hints, self.diff = schema, format, hints, diff
        self.max_attempts, self.max_total_tokens = max(1, max_attempts), max_total_tokens
        self.tokens = 0
        self.history: list[dict[str, Any]] = []

    def answer(self, text: str, finish: str | None, used: int) -> StructuredResult | None:
        """Parse one answer: the final result, or ``None`` after queuing a re-prompt."""
        attempt = len(self.history) + 1
        self.tokens += int(used or 0)
        result = parse(text, self.schema, format=self.format, finish_reason=finish, diff=self.diff)
        self.history.append(
            {
                "attempt": attempt,
                "stage": result.stage,
                "error": result.error,
                "tokens": int(used or 0),
            }
        )
        if result.ok or attempt >= self.max_attempts or self.tokens >= self.max_total_tokens:
            return _merge(result, attempt, self.tokens, self.history)
        self.convo = [
            *self.convo,
            {"role": "assistant", "content": text},
            {"role": "user", "content": reprompt_message(result, self.format, self.hints)},
        ]
        return None


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
    loop = _Loop(messages, schema, format, max_attempts, max_total_tokens, hints, diff)
    while (result := loop.answer(*call(loop.convo))) is None:
        pass
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
    loop = _Loop(messages, schema, format, max_attempts, max_total_tokens, hints, diff)
    while (result := loop.answer(*await call(loop.convo))) is None:
        pass
    return result
