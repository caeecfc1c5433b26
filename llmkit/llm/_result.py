"""What a call returns: the text, why it stopped, usage, timing per attempt and overall."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llmkit.timing import Timing

__all__ = ["Attempt", "CallResult"]


@dataclass(frozen=True)
class Attempt:
    """One HTTP attempt of a call.

    Attributes:
        number: 1 for the first attempt.
        started_ns: ``perf_counter_ns`` when the request was sent.
        timing: the attempt's timing (``None`` if it failed before any response).
        error: what went wrong, or ``None`` for the attempt that succeeded.
        status: HTTP status, if a response came.
        wait_s: the back-off slept after this attempt before the next one.
    """

    number: int
    started_ns: int
    timing: Timing | None = None
    error: str | None = None
    error_type: str | None = None
    status: int | None = None
    wait_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The attempt as plain JSON-ready data."""
        return {
            "number": self.number,
            "error": self.error,
            "error_type": self.error_type,
            "status": self.status,
            "wait_s": self.wait_s,
            "timing": self.timing.to_dict() if self.timing else None,
        }


@dataclass(frozen=True)
class CallResult:
    """The outcome of one chat call.

    ``timing`` is measured from the first attempt's send (so it includes retries and
    back-off); ``attempts[-1].timing`` is the successful attempt on its own.
    """

    text: str
    finish_reason: str | None
    model: str
    response_id: str | None
    usage: dict[str, Any] | None
    timing: Timing
    attempts: tuple[Attempt, ...]
    reasoning: str = ""
    request: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def truncated(self) -> bool:
        """Whether the answer stopped at ``max_tokens`` (``finish_reason == "length"``)."""
        return self.finish_reason == "length"

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready data (one row of a DataFrame)."""
        return {
            "text": self.text,
            "reasoning": self.reasoning,
            "finish_reason": self.finish_reason,
            "model": self.model,
            "response_id": self.response_id,
            "usage": self.usage,
            "timing": self.timing.to_dict(),
            "attempts": [a.to_dict() for a in self.attempts],
        }
