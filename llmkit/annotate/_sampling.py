"""Daily sampling, stratified by any metadata field, and assignment to raters' queues.

``sample`` draws N conversations not sampled before, in proportion to the strata of one
metadata field (model, prompt version, structured stage, latency band...). ``assign`` puts
a sample in the raters' queues: a set share of items goes to two or more raters (blind to
each other: a queue shows only the rater's own work), the rest to one rater each with the
load balanced, and gold items with known answers are mixed in at random places.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from llmkit.annotate import _schema as t
from llmkit.annotate._rubric import Rubric
from llmkit.annotate._store import AnnotationError, RubricVersion, Store

__all__ = ["Assignment", "Sample", "assign", "sample", "stratum_of"]

MISSING = "(missing)"


@dataclass(frozen=True)
class Sample:
    """A day's draw.

    Attributes:
        id: the sample's id.
        day: ``YYYY-MM-DD``.
        item_ids: the drawn conversations.
        strata: stratum value -> items drawn from it (empty without ``stratify_by``).
        available: conversations that could have been drawn.
    """

    id: int
    day: str
    item_ids: tuple[str, ...]
    strata: dict[str, int] = field(default_factory=dict)
    available: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The sample as plain JSON-ready data (item count, not the ids)."""
        return {
            "id": self.id,
            "day": self.day,
            "items": len(self.item_ids),
            "available": self.available,
            "strata": self.strata,
        }


@dataclass(frozen=True)
class Assignment:
    """How a sample was spread over raters.

    Attributes:
        sample_id: the sample.
        rubric: ``name@version`` the raters rate with.
        per_rater: rater -> queue length (gold included).
        overlap_items: items given to two or more raters.
        gold_items: gold items mixed in (over all queues).
    """

    sample_id: int
    rubric: str
    per_rater: dict[str, int]
    overlap_items: int
    gold_items: int

    def to_dict(self) -> dict[str, Any]:
        """The assignment as plain JSON-ready data."""
        return {
            "sample_id": self.sample_id,
            "rubric": self.rubric,
            "per_rater": self.per_rater,
            "overlap_items": self.overlap_items,
            "gold_items": self.gold_items,
        }


def stratum_of(metadata: dict[str, Any], field_path: str) -> str:
    """The metadata value at a dotted path, as text (``(missing)`` when absent)."""
    value: Any = metadata
    for part in field_path.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    if value is None:
        return MISSING
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Proportional allocation by largest remainder, never more than a stratum holds."""
    total = sum(sizes.values())
    quota = {k: n * v / total for k, v in sizes.items()}
    alloc = {k: min(sizes[k], int(q)) for k, q in quota.items()}
    # Hand out what is left by largest remainder, then to any stratum with room.
    order = sorted(sizes, key=lambda k: (-(quota[k] - int(quota[k])), k))
    left = n - sum(alloc.values())
    while left > 0:
        progressed = False
        for k in order:
            if left and alloc[k] < sizes[k]:
                alloc[k] += 1
                left -= 1
                progressed = True
        if not progressed:
            break
    return alloc


def _today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def _check_day(day: str) -> str:
    try:
        return dt.date.fromisoformat(day).isoformat()
    except ValueError:
        raise AnnotationError(f"day {day!r} is not YYYY-MM-DD") from None


def sample(
    store: Store,
    n: int,
    *,
    day: str | None = None,
    stratify_by: str | None = None,
    seed: int | None = None,
) -> Sample:
    """Draw ``n`` conversations never sampled before (gold items excluded).

    Args:
        store: the annotation store.
        n: how many to draw (fewer when fewer are left).
        day: the day it is for (default today, UTC).
        stratify_by: a metadata field (dotted for nested) to draw proportionally from.
        seed: RNG seed (default: from the day, so a rerun of a day draws the same).

    Raises:
        AnnotationError: ``n`` < 1, a bad day, or nothing left to draw.
    """
    if n < 1:
        raise AnnotationError("sample size must be at least 1")
    day = _check_day(day) if day else _today()
    if seed is None:
        seed = int(day.replace("-", ""))
    rng = random.Random(seed)
    with store.engine.connect() as conn:
        taken = sa.select(t.sample_items.c.item_id)
        gold = sa.select(t.gold_labels.c.item_id)
        rows = conn.execute(
            sa.select(t.items.c.id, t.items.c.metadata_json)
            .where(t.items.c.id.not_in(taken), t.items.c.id.not_in(gold))
            .order_by(t.items.c.id)
        ).all()
    if not rows:
        raise AnnotationError("no conversations left to sample (import some first)")
    groups: dict[str, list[str]] = {}
    for row in rows:
        key = stratum_of(json.loads(row.metadata_json), stratify_by) if stratify_by else ""
        groups.setdefault(key, []).append(row.id)
    alloc = _allocate({k: len(v) for k, v in groups.items()}, min(n, len(rows)))
    chosen: list[tuple[str, str]] = []
    for key in sorted(groups):
        chosen += [(item, key) for item in rng.sample(groups[key], alloc[key])]
    rng.shuffle(chosen)
    with store.transaction() as conn:
        new_key = conn.execute(
            t.samples.insert().values(
                day=day,
                requested=n,
                stratify_by=stratify_by,
                seed=seed,
                created_at=time.time(),
            )
        ).inserted_primary_key
        assert new_key is not None
        sample_id = int(new_key[0])
        conn.execute(
            t.sample_items.insert(),
            [
                {"sample_id": sample_id, "item_id": item, "stratum": stratum or None}
                for item, stratum in chosen
            ],
        )
    strata = dict(sorted(Counter(s for _, s in chosen).items())) if stratify_by else {}
    return Sample(sample_id, day, tuple(i for i, _ in chosen), strata, available=len(rows))


def _latest_sample(store: Store, day: str | None) -> int:
    query = sa.select(sa.func.max(t.samples.c.id))
    if day is not None:
        query = query.where(t.samples.c.day == _check_day(day))
    with store.engine.connect() as conn:
        found = conn.execute(query).scalar()
    if found is None:
        raise AnnotationError("no sample to assign (run llmkit annotate sample first)")
    return int(found)


def assign(
    store: Store,
    raters: Sequence[str],
    *,
    rubric: Rubric | RubricVersion | None = None,
    sample_id: int | None = None,
    day: str | None = None,
    overlap: float = 0.2,
    raters_per_item: int = 2,
    gold_per_rater: int = 0,
    seed: int = 0,
) -> Assignment:
    """Put a sample into raters' queues.

    Args:
        store: the annotation store.
        raters: user names of the raters.
        rubric: what to rate with (default: the shipped default rubric).
        sample_id: the sample (default: the latest, or the latest of ``day``).
        day: pick the latest sample of this day.
        overlap: share of items (0-1) rated by ``raters_per_item`` raters each.
        raters_per_item: raters per overlap item (at least 2, at most the raters given).
        gold_per_rater: gold items mixed into each queue at random places.
        seed: RNG seed for who gets what and the queue order.

    Raises:
        AnnotationError: unknown rater, bad share, sample already assigned, too few gold.
    """
    if not raters or len(set(raters)) != len(raters):
        raise AnnotationError("give each rater once")
    if not 0.0 <= overlap <= 1.0:
        raise AnnotationError(f"overlap {overlap} must be between 0 and 1")
    if overlap > 0 and not 2 <= raters_per_item <= len(raters):
        if len(raters) < 2:
            raise AnnotationError(
                f"overlap {overlap:g} has items rated by {raters_per_item} raters, but only "
                f"{len(raters)} rater was given: give at least 2 raters, or overlap 0"
            )
        raise AnnotationError(
            f"{raters_per_item} raters per item, but only {len(raters)} raters were given: "
            f"use at most {len(raters)} raters per item, or give more raters"
        )
    if gold_per_rater < 0:
        raise AnnotationError("gold_per_rater must be >= 0")
    users = [store.user(name) for name in raters]
    if rubric is None:
        from llmkit.annotate._data import default_rubric

        rubric = default_rubric()
    version = rubric if isinstance(rubric, RubricVersion) else store.register_rubric(rubric)
    if sample_id is None:
        sample_id = _latest_sample(store, day)
    rng = random.Random(seed * 1_000_003 + sample_id)
    with store.engine.connect() as conn:
        done = conn.execute(
            sa.select(sa.func.count())
            .select_from(t.assignments)
            .where(t.assignments.c.sample_id == sample_id)
        ).scalar()
        if done:
            raise AnnotationError(f"sample {sample_id} is already assigned")
        item_ids = list(
            conn.execute(
                sa.select(t.sample_items.c.item_id)
                .where(t.sample_items.c.sample_id == sample_id)
                .order_by(t.sample_items.c.item_id)
            ).scalars()
        )
        gold_pool = sorted(set(conn.execute(sa.select(t.gold_labels.c.item_id)).scalars()))
    if not item_ids:
        raise AnnotationError(f"sample {sample_id} does not exist or is empty")
    if gold_per_rater > len(gold_pool):
        raise AnnotationError(
            f"{gold_per_rater} gold items per rater asked, {len(gold_pool)} stored "
            "(import conversations with a gold field)"
        )
    rng.shuffle(item_ids)
    n_overlap = round(overlap * len(item_ids)) if len(users) >= 2 else 0
    load = Counter({u.id: 0 for u in users})
    queues: dict[int, list[tuple[str, bool, bool]]] = {u.id: [] for u in users}

    def least_loaded(k: int) -> list[int]:
        ids = list(load)
        rng.shuffle(ids)  # random among equals
        return sorted(ids, key=lambda i: load[i])[:k]

    for index, item in enumerate(item_ids):
        is_overlap = index < n_overlap
        for rater_id in least_loaded(raters_per_item if is_overlap else 1):
            queues[rater_id].append((item, False, is_overlap))
            load[rater_id] += 1
    for rater_id in queues:
        for item in rng.sample(gold_pool, gold_per_rater):
            queues[rater_id].append((item, True, False))
        rng.shuffle(queues[rater_id])
    now = time.time()
    rows = [
        {
            "sample_id": sample_id,
            "item_id": item,
            "rater_id": rater_id,
            "rubric_id": version.id,
            "position": position,
            "is_gold": is_gold,
            "is_overlap": is_overlap,
            "created_at": now,
        }
        for rater_id, queue in queues.items()
        for position, (item, is_gold, is_overlap) in enumerate(queue)
    ]
    try:
        with store.transaction() as conn:
            conn.execute(t.assignments.insert(), rows)
    except sa.exc.IntegrityError:
        raise AnnotationError(f"sample {sample_id} is already assigned") from None
    names = {u.id: u.name for u in users}
    return Assignment(
        sample_id=sample_id,
        rubric=f"{version.name}@{version.version}",
        per_rater={names[i]: len(q) for i, q in queues.items()},
        overlap_items=n_overlap,
        gold_items=gold_per_rater * len(users),
    )
