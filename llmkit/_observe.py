"""Where the watch package listens: plain events for each call, structured outcome and eval score.

A floor module (it imports nothing of llmkit). ``OBSERVERS`` is empty unless
:func:`llmkit.watch.enable` added one, so with the watch off a call pays one truthiness
check. The variant of a canary rollout travels in a context variable, so every call made in
that context (thread or task) is tagged with it without passing it through every layer.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "OBSERVERS",
    "VARIANT",
    "CallEvent",
    "EvalScoreEvent",
    "Observer",
    "StructuredEvent",
    "emit",
]

_logger = logging.getLogger("llmkit.watch")

# The canary variant of the calls made in this context (``llmkit.watch.variant`` sets it).
VARIANT: contextvars.ContextVar[str | None] = contextvars.ContextVar("llmkit_variant", default=None)


@dataclass(frozen=True, slots=True)
class CallEvent:
    """One finished client call (success or failure), in seconds and token counts."""

    operation: str
    streamed: bool
    server_address: str | None
    server_port: int | None
    request_model: str
    response_model: str | None
    finish_reason: str | None
    input_tokens: int | None
    output_tokens: int | None
    duration_s: float
    ttft_s: float | None
    chunk_gaps_s: tuple[float, ...]
    tpot_s: float | None
    error_type: str | None
    prompt: tuple[str, str] | None
    variant: str | None
    attempts: int
    started_wall: float
    messages: Sequence[Any] = field(default=(), repr=False)
    output_text: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class StructuredEvent:
    """The outcome of one structured call: the stage that saved it and the rules that fired."""

    stage: str
    rules: tuple[str, ...]
    reprompts: int
    request_model: str | None
    prompt: tuple[str, str] | None
    variant: str | None


@dataclass(frozen=True, slots=True)
class EvalScoreEvent:
    """One scorer's score (0..1) on one eval case."""

    suite: str
    case: str
    scorer: str
    score: float
    variant: str | None


class Observer(Protocol):
    def on_call(self, event: CallEvent) -> None: ...

    def on_structured(self, event: StructuredEvent) -> None: ...

    def on_eval_score(self, event: EvalScoreEvent) -> None: ...


OBSERVERS: list[Observer] = []


def emit(event: CallEvent | StructuredEvent | EvalScoreEvent) -> None:
    """Hand ``event`` to every observer; an observer's failure never fails the call."""
    for observer in list(OBSERVERS):
        try:
            if isinstance(event, CallEvent):
                observer.on_call(event)
            elif isinstance(event, StructuredEvent):
                observer.on_structured(event)
            else:
                observer.on_eval_score(event)
        except Exception as exc:
            _logger.warning("llmkit: a watch observer failed on %s: %s", type(event).__name__, exc)
