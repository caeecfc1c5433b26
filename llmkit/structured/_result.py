"""The value every parse returns: what came out, and what it took to get it."""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["NONFINITE_NOTE", "STAGES", "Stage", "StructuredResult", "to_jsonable"]

#: the note :meth:`StructuredResult.to_dict` adds where NaN or an infinity became null
NONFINITE_NOTE = "nonfinite_to_null"

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
        error_kind: the exception class behind a refusal (``"UnsafeInputError"``: size,
            depth, aliases, tags; ``"ParseError"``), when one was raised inside.

    Non-finite numbers: ``value`` keeps what the answer said (``a: .nan`` is NaN in YAML
    1.2, JSON ``1E400`` is ``inf`` in Python), so Python callers see it as written. Strict
    JSON has no NaN or Infinity, so :meth:`to_dict` (and every JSON line ``llmkit parse``
    writes) puts ``null`` in their place and says so with the note
    ``nonfinite_to_null`` in its ``notes``: the change is never silent.
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
    error_kind: str | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """True unless the stage is ``failed``."""
        return self.stage != "failed"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dict (instances dumped, non-finite floats as ``None``).

        Where a non-finite float became ``None``, ``notes`` ends with
        ``nonfinite_to_null``.
        """
        nulled: list[bool] = []
        value = _jsonable(self.value, 0, nulled) if self.ok else None
        notes = list(self.notes)
        if nulled and NONFINITE_NOTE not in notes:
            notes.append(NONFINITE_NOTE)
        return {
            "ok": self.ok,
            "value": value,
            "stage": self.stage,
            "repairs": list(self.repairs),
            "error": _printable(self.error) if self.error else self.error,
            "truncated": self.truncated,
            "attempts": self.attempts,
            "tokens": self.tokens,
            "format": self.format,
            "notes": [_printable(n) for n in notes],
            "diff": self.diff,
            "raw": self.raw,
        }


def _printable(text: str) -> str:
    """``text`` with any lone surrogate escaped (`\\ud800`): messages must encode."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def to_jsonable(value: Any, _depth: int = 0) -> Any:
    """Convert a parsed value to strict-JSON types.

    Pydantic models and dataclasses are dumped, non-finite floats become ``None`` (use
    :meth:`StructuredResult.to_dict` to have that noted), sets and tuples become lists,
    other objects their ``str``.
    """
    return _jsonable(value, _depth, None)


def _jsonable(value: Any, depth: int, nulled: list[bool] | None) -> Any:
    # ``nulled`` (when given) gets one entry once a non-finite float became None
    if depth > 500:
        raise ValueError("value nested too deeply to serialise")
    if isinstance(value, enum.Enum):
        return _jsonable(value.value, depth + 1, nulled)
    if value is None or isinstance(value, (bool, int, str)):
        return value if type(value) in (bool, int, str) or value is None else _scalar(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        if nulled is not None and not nulled:
            nulled.append(True)
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v, depth + 1, nulled) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v, depth + 1, nulled) for v in value]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        if nulled is not None and not nulled:  # pydantic's JSON mode nulls NaN silently
            _jsonable(dump(mode="python"), depth + 1, nulled)
        return _jsonable(dump(mode="json"), depth + 1, nulled)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value), depth + 1, nulled)
    return str(value)


def _scalar(value: Any) -> Any:
    # str/int subclasses (enums, our Plain marker) become their base value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    return str(value)
