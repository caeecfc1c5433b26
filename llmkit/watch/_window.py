"""Time windows over the call log: ``1h`` (the last hour) or ``2026-11-01..2026-11-07``."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from llmkit._exceptions import ConfigError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Window", "parse_window", "select"]

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

Window = tuple[float, float]  # [start, end) in Unix seconds


def _duration_s(text: str) -> float | None:
    match = _DURATION.match(text)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else None


def _instant(text: str, option: str, *, end: bool) -> float:
    try:
        if len(text) == 10:  # a date: the whole day, in UTC
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return (start + timedelta(days=1) if end else start).timestamp()
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"{option} {text!r}: expected a date (2026-11-01) or a date and time"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def parse_window(text: str, option: str, now: float) -> Window:
    """``1h``/``30m``/``7d``: the span ending ``now``; ``A..B``: from A to the end of B."""
    text = text.strip()
    if (seconds := _duration_s(text)) is not None:
        if seconds <= 0:
            raise ConfigError(f"{option} {text!r}: the span must be above zero")
        return now - seconds, now
    start_text, sep, end_text = text.partition("..")
    if not sep:
        raise ConfigError(
            f"{option} {text!r}: expected a span (1h, 30m, 7d) or a range 2026-11-01..2026-11-07"
        )
    start = _instant(start_text.strip(), option, end=False)
    end = _instant(end_text.strip(), option, end=True)
    if end <= start:
        raise ConfigError(f"{option} {text!r}: the range ends before it starts")
    return start, end


def select(frame: pd.DataFrame, window: Window) -> pd.DataFrame:
    """The call-log rows that started inside ``window``."""
    start, end = window
    return frame[(frame["started_at"] >= start) & (frame["started_at"] < end)]
