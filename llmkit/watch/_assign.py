"""Sticky canary assignment: the same user (or session) always gets the same variant.

The key is hashed with SHA-256 (never Python's ``hash``, which changes per process) to a
point in [0, 1); the variants, sorted by name so reordering a dict moves no one, split that
interval by weight. The chosen variant also tags the calls made afterwards in this context.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from collections.abc import Iterator, Mapping

from llmkit import _observe
from llmkit._exceptions import ConfigError

__all__ = ["using_variant", "variant"]


def _point(key: str, experiment: str) -> float:
    digest = hashlib.sha256(f"{experiment}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def variant(key: str, weights: Mapping[str, float], *, experiment: str = "") -> str:
    """The variant for ``key`` (a user or session id), e.g. ``variant(uid, {"A": 0.9, "B": 0.1})``.

    Stable across processes and releases. The calls that follow in the current context
    (thread or asyncio task) are recorded with this variant on the call log, metrics and spans.

    Args:
        key: who is assigned; the same key always gets the same variant.
        weights: variant name -> weight (any positive numbers; they are normalised).
        experiment: a salt, so two experiments split users independently.
    """
    if not weights:
        raise ConfigError("variant(): weights is empty; give e.g. {'A': 0.9, 'B': 0.1}")
    for name, weight in weights.items():
        if not isinstance(weight, int | float) or not math.isfinite(weight) or weight < 0:
            raise ConfigError(
                f"variant(): weight of {name!r} is {weight!r}; expected a number >= 0"
            )
    total = float(sum(weights.values()))
    if total <= 0:
        raise ConfigError("variant(): the weights add up to 0")
    point = _point(str(key), experiment) * total
    chosen = None
    edge = 0.0
    for name in sorted(weights):
        edge += float(weights[name])
        if weights[name] > 0:
            chosen = name
            if point < edge:
                break
    assert chosen is not None
    _observe.VARIANT.set(chosen)
    return chosen


@contextlib.contextmanager
def using_variant(name: str | None) -> Iterator[None]:
    """Tag the calls inside the block with ``name`` (``None``: untagged), then restore."""
    token = _observe.VARIANT.set(name)
    try:
        yield
    finally:
        _observe.VARIANT.reset(token)
