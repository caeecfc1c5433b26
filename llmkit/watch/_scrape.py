"""Read a Prometheus text endpoint back with ``prometheus_client``'s parser (demo and tests)."""

from __future__ import annotations

import urllib.request

__all__ = ["Samples", "scrape", "total"]

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    """``{(series name, labels): value}`` of every sample ``url`` serves."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(url, timeout=30) as response:
        text = response.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum of ``name`` over the series whose labels include ``labels``."""
    want = set(labels.items())
    return float(sum(v for (n, ls), v in samples.items() if n == name and want <= ls))
