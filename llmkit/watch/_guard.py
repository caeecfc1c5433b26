"""Keep metric attributes low-cardinality: an unbounded value is refused with a warning."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping

__all__ = ["OVERFLOW", "AttributeGuard", "CardinalityWarning"]

OVERFLOW = "_other"  # what a refused value is counted under, so totals still add up


class CardinalityWarning(UserWarning):
    """An attribute value was refused: too long, or one distinct value too many."""


class AttributeGuard:
    """Admit at most ``max_values`` distinct values per attribute, each at most ``max_length``.

    Past the limit a value is replaced by ``_other`` and one warning per attribute names it,
    so a user id or a free-text prompt name cannot explode the series count.
    """

    def __init__(self, max_values: int = 100, max_length: int = 128) -> None:
        self.max_values = max_values
        self.max_length = max_length
        self._seen: dict[str, set[str]] = {}
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def _admit(self, key: str, value: str) -> str:
        seen = self._seen.setdefault(key, set())
        if value in seen:
            return value
        if len(value) <= self.max_length and len(seen) < self.max_values:
            seen.add(value)
            return value
        if key not in self._warned:
            self._warned.add(key)
            why = (
                f"longer than {self.max_length} characters"
                if len(value) > self.max_length
                else f"beyond {self.max_values} distinct values"
            )
            warnings.warn(
                f"llmkit.watch: attribute {key}={value[:40]!r} refused ({why}); counted as"
                f" {OVERFLOW!r} from now on (keep attributes low-cardinality)",
                CardinalityWarning,
                stacklevel=2,
            )
        return OVERFLOW

    def clean(self, attributes: Mapping[str, object]) -> dict[str, str | int]:
        """String values checked; ``None`` dropped; integers (ports) kept as they are."""
        out: dict[str, str | int] = {}
        with self._lock:
            for key, value in attributes.items():
                if value is None:
                    continue
                if isinstance(value, int) and not isinstance(value, bool):
                    out[key] = value
                else:
                    out[key] = self._admit(key, str(value))
        return out
