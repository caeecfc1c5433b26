"""Scrape helpers for the tests (the parsing is the library's, from the real parser)."""

from __future__ import annotations

from llmkit.watch._scrape import Samples, scrape, total

__all__ = ["label_values", "scrape", "total"]


def label_values(samples: Samples, name: str, label: str) -> set[str]:
    return {dict(ls).get(label, "") for (n, ls), _ in samples.items() if n == name}
