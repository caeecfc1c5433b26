"""The spellings ``llmkit bench`` options accept: ``"30s"``, ``"1,4,16"``, ``"5%"``,
``"ttft=500ms,itl=50ms,e2e=10s"``. Each raises :class:`~llmkit.ConfigError` naming the text."""

from __future__ import annotations

import math
import re
from typing import TypeVar

from llmkit import ConfigError
from llmkit.bench import SLO

N = TypeVar("N", int, float)

__all__ = ["parse_duration", "parse_float_list", "parse_int_list", "parse_share", "parse_slo"]

_DURATION_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(ms|s|m|h)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str | float | int) -> float:
    """Seconds from ``"500ms"``, ``"30s"``, ``"2m"``, ``"1h"`` or a bare number of seconds.

    >>> parse_duration("500ms"), parse_duration("2m"), parse_duration(3)
    (0.5, 120.0, 3.0)
    """
    if isinstance(text, int | float):
        value = float(text)
    else:
        m = _DURATION_RE.match(text)
        if not m:
            raise ConfigError(f"not a duration: {text!r} (use e.g. 500ms, 30s, 2m)")
        value = float(m.group(1)) * _UNIT_S[m.group(2)]
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"duration must be finite and >= 0: {text!r}")
    return value


def _positive_list(text: str, kind: type[N], noun: str) -> tuple[N, ...]:
    try:
        values = tuple(kind(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise ConfigError(f"not a list of {noun}: {text!r}") from None
    if not values or any(not math.isfinite(v) or v <= 0 for v in values):
        raise ConfigError(f"expected positive {noun}, got {text!r}")
    return values


def parse_int_list(text: str) -> tuple[int, ...]:
    """``"1,4,16"`` → ``(1, 4, 16)``; every value must be a positive integer."""
    return _positive_list(text, int, "integers")


def parse_float_list(text: str) -> tuple[float, ...]:
    """``"2,8.5"`` → ``(2.0, 8.5)``; every value must be positive and finite."""
    return _positive_list(text, float, "numbers")


def parse_share(text: str | float) -> float:
    """A share in [0, 1] from ``"5%"`` or ``"0.05"``.

    >>> parse_share("5%"), parse_share("0.25"), parse_share(0)
    (0.05, 0.25, 0.0)
    """
    raw = str(text).strip()
    try:
        value = float(raw.removesuffix("%"))
    except ValueError:
        raise ConfigError(f"not a share: {text!r} (use e.g. 5% or 0.05)") from None
    if raw.endswith("%"):
        value /= 100
    if not 0 <= value <= 1:
        raise ConfigError(f"a share must lie between 0 and 1 (0% and 100%): {text!r}")
    return value


def parse_slo(text: str) -> SLO:
    """``"ttft=500ms,itl=50ms,e2e=10s"`` → :class:`SLO` (bare numbers are milliseconds)."""
    values: dict[str, float] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, raw = part.partition("=")
        key = key.strip().lower().removesuffix("_ms")
        if key == "tbt":  # the same thing under its other name
            key = "itl"
        if not sep or key not in ("ttft", "itl", "e2e", "tpot"):
            raise ConfigError(f"bad SLO {part!r}: use ttft=, itl=, e2e= or tpot= with a time")
        raw = raw.strip()
        ms = float(raw) if re.fullmatch(r"[0-9]*\.?[0-9]+", raw) else parse_duration(raw) * 1000
        values[f"{key}_ms"] = ms
    slo = SLO(**values)
    if slo.is_empty():
        raise ConfigError(f"empty SLO: {text!r}")
    return slo
