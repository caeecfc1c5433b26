"""Split a suite over CI jobs: ``--shard i/n`` runs the cases whose id hashes to slice ``i``.

A case's slice depends on its id alone (SHA-256 of the id, modulo ``n``), so it is the same
on every machine and in every run, and adding or removing cases never moves another case
to another slice (shard results and baselines stay comparable). Slices are balanced in
expectation: each gets a binomial share of the cases (``benchmarks``-free check: the tests
bound the spread for 1,000 ids).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from llmkit._exceptions import ConfigError

__all__ = ["Shard", "parse_shard", "shard_of"]

_SPEC = re.compile(r"^\s*(\d{1,4})\s*/\s*(\d{1,4})\s*$")
MAX_SHARDS = 1000


@dataclass(frozen=True)
class Shard:
    """Slice ``index`` (1-based) of ``count``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, case_id: str) -> bool:
        """Whether the case with this id belongs to this slice."""
        return shard_of(case_id, self.count) == self.index

    def select(self, case_ids: Iterable[str]) -> list[str]:
        """The ids of this slice, in the order given."""
        return [c for c in case_ids if self.holds(c)]

    def to_dict(self) -> dict[str, int]:
        """The slice as JSON (``{"index": i, "count": n}``)."""
        return {"index": self.index, "count": self.count}


def shard_of(case_id: str, count: int) -> int:
    """The 1-based slice of ``count`` that the case ``case_id`` belongs to."""
    digest = hashlib.sha256(case_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def parse_shard(text: str) -> Shard:
    """``"2/4"`` as ``Shard(2, 4)``.

    Raises:
        ConfigError: not ``i/n`` with ``1 <= i <= n <= 1000``.
    """
    m = _SPEC.match(text)
    if not m:
        raise ConfigError(f"--shard {text!r}: expected i/n, e.g. 2/4")
    index, count = int(m.group(1)), int(m.group(2))
    if not 1 <= count <= MAX_SHARDS or not 1 <= index <= count:
        raise ConfigError(f"--shard {text!r}: need 1 <= i <= n <= {MAX_SHARDS}")
    return Shard(index, count)
