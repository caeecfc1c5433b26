"""Service-level objectives from the command line's ``--slo`` text, checked and typed.

``ttft_p95=800ms,itl_p95=80ms,error_rate=2%,parse_failure_rate=0.5%`` becomes an
:class:`Slo`. Latency objectives name a percentile (the share of requests that must be at
or under the threshold); rates name the largest acceptable share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from llmkit._exceptions import ConfigError

__all__ = ["LATENCY_KEYS", "RATE_KEYS", "LatencyObjective", "Slo", "parse_slo"]

# SLO key -> the histogram it is measured on (see _names.SERIES).
LATENCY_KEYS = {"ttft": "ttft", "itl": "itl", "e2e": "duration"}
RATE_KEYS = ("error_rate", "parse_failure_rate", "reprompt_rate", "length_rate")

_LATENCY = re.compile(r"^(ttft|itl|e2e)_p(\d{1,2}(?:\.\d+)?)$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)%$")


@dataclass(frozen=True)
class LatencyObjective:
    """``percentile`` % of requests finish ``metric`` within ``threshold_s`` seconds."""

    key: str
    metric: str
    percentile: float
    threshold_s: float

    @property
    def budget(self) -> float:
        """The share of requests allowed over the threshold (0.05 for a p95)."""
        return round(1.0 - self.percentile / 100.0, 10)


@dataclass(frozen=True)
class Slo:
    latency: tuple[LatencyObjective, ...] = ()
    rates: dict[str, float] = field(default_factory=dict)

    def thresholds(self, metric: str) -> tuple[float, ...]:
        """Every threshold set on ``metric`` (``ttft``, ``itl``, ``duration``): bucket bounds."""
        return tuple(sorted({o.threshold_s for o in self.latency if o.metric == metric}))


def _duration(key: str, text: str) -> float:
    match = _DURATION.match(text)
    if not match:
        raise ConfigError(f"--slo {key}={text!r}: expected a duration such as 800ms or 1.5s")
    value = float(match.group(1)) / (1000.0 if match.group(2) == "ms" else 1.0)
    if value <= 0:
        raise ConfigError(f"--slo {key}={text!r}: the threshold must be above zero")
    return value


def _share(key: str, text: str) -> float:
    match = _PERCENT.match(text)
    if not match:
        raise ConfigError(f"--slo {key}={text!r}: expected a percentage such as 2% or 0.5%")
    value = float(match.group(1)) / 100.0
    if not 0 < value < 1:
        raise ConfigError(f"--slo {key}={text!r}: the share must be above 0% and below 100%")
    return value


def parse_slo(text: str | None) -> Slo:
    """Parse ``key=value,...``; unknown keys and malformed values are errors naming them."""
    if not text or not text.strip():
        return Slo()
    latency: list[LatencyObjective] = []
    rates: dict[str, float] = {}
    for item in text.split(","):
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not key or not value:
            raise ConfigError(f"--slo item {item.strip()!r}: expected key=value")
        if key in rates or any(o.key == key for o in latency):
            raise ConfigError(f"--slo {key}: given twice")
        if match := _LATENCY.match(key):
            percentile = float(match.group(2))
            if not 50 <= percentile < 100:
                raise ConfigError(f"--slo {key}: the percentile must be from 50 to below 100")
            metric = LATENCY_KEYS[match.group(1)]
            latency.append(LatencyObjective(key, metric, percentile, _duration(key, value)))
        elif key in RATE_KEYS:
            rates[key] = _share(key, value)
        else:
            known = ", ".join(["ttft_pNN", "itl_pNN", "e2e_pNN", *RATE_KEYS])
            raise ConfigError(f"--slo {key}: unknown objective (known: {known})")
    return Slo(tuple(latency), rates)
