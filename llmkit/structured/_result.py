"""The value every parse returns: what came out, and what it took to get it."""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["STAGES", "Stage", "StructuredResult", "to_jsonable"]

Stage = Literal["clean", "repaired", "reprompted", "failed"]
STAGES: tuple[str, ...] = ("clean", "repaired", "reprompted", "failed")


@dataclass(frozen=True)
class StructuredResult:
    """Outcome of turning model text into a value.

    Attributes:
        value: the value (a pydantic/dataclass instance when the schema was a class);
            ``None`` when ``stage == "failed"``.
        stage: ``clean`` (loaded and validated, no rule fired), ``repaired`` (an extract,
            repair, load or coercion rule fired), ``reprompted`` (a later attempt of
            :func:`run_structured` succeeded) or ``failed``.
        repairs: names of the rules that fired, coercions included, in order.
        raw: the model text as received (the last attempt's text when re-prompted).
        error: readable reason for failure, else ``None``.
        truncated: the answer was cut (``finish_reason == "length"`` or evidence in text).
        attempts: model calls made (1 for a plain parse).
        tokens: tokens spent over all attempts (0 when unknown).
        diff: unified diff of what text repairs changed, when asked for.
        notes: short remarks from rules (e.g. how many documents were found).
        format: the format the value was read as (``yaml`` or ``json``).
        position: character offset of the failure in the payload, when known.
    """

    value: Any
    stage: Stage
    repairs: tuple[str, ...] = ()
    raw: str = ""
    error: str | None = None
    truncated: bool = False
    attempts: int = 1
    tokens: int = 0
    diff: str | None = None
    notes: tuple[str, ...] = ()
    format: str = ""
    position: int | None = None
    history: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    @property
    def ok(self) -> bool:
        """True unless the stage is ``failed``."""
        return self.stage != "failed"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dict (instances dumped, non-finite floats as ``None``)."""
        return {
            "ok": self.ok,
            "value": to_jsonable(self.value) if self.ok else None,
            "stage": self.stage,
            "repairs": list(self.repairs),
            "error": self.error,
            "truncated": self.truncated,
            "attempts": self.attempts,
            "tokens": self.tokens,
            "format": self.format,
            "notes": list(self.notes),
            "diff": self.diff,
            "raw": self.raw,
        }


def to_jsonable(value: Any, _depth: int = 0) -> Any:
    """Convert a parsed value to strict-JSON types.

    Pydantic models and dataclasses are dumped, non-finite floats become ``None``, sets
    and tuples become lists, other objects their ``str``.
    """
    if _depth > 500:
        raise ValueError("value nested too deeply to serialise")
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, _depth + 1)
    if value is None or isinstance(value, (bool, int, str)):
        return value if type(value) in (bool, int, str) or value is None else _scalar(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): to_jsonable(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v, _depth + 1) for v in value]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return to_jsonable(dump(mode="json"), _depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value), _depth + 1)
    return str(value)


def _scalar(value: Any) -> Any:
    # str/int subclasses (enums, our Plain marker) become their base value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    return str(value)
