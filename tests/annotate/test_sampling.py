"""Sampling and assignment: strata, no resampling, blind overlap, balanced queues, gold mixed in."""

from __future__ import annotations

import io
import json
from collections import Counter
from typing import Any

import pytest

from llmkit.annotate import AnnotationError, Store, assign, import_jsonl, sample


def _load(store: Store, conversation: Any, n: int = 100, gold: int = 6) -> None:
    lines = []
    for i in range(n):
        model = "big" if i % 4 == 0 else "small"  # 25% big, 75% small
        lines.append(conversation(f"c{i:03d}", model=model, timing={"band": f"b{i % 2}"}))
    for i in range(gold):
        g = conversation(f"g{i}", model="small")
        g["gold"] = {"hallucination": "yes" if i % 2 else "no", "overall_quality": "2"}
        lines.append(g)
    import_jsonl(store, io.StringIO("\n".join(json.dumps(x) for x in lines)), name="t.jsonl")


def test_stratified_sample_is_proportional_and_never_repeats(
    store: Store, conversation: Any
) -> None:
    _load(store, conversation)
    first = sample(store, 40, day="2026-11-02", stratify_by="model", seed=1)
    assert first.strata == {"big": 10, "small": 30}
    assert first.available == 100  # gold items are never sampled
    assert not any(i.startswith("g") for i in first.item_ids)
    left = Counter(f"b{int(i[1:]) % 2}" for i in (f"c{k:03d}" for k in range(100)))
    for item in first.item_ids:
        left[f"b{int(item[1:]) % 2}"] -= 1
    nested = sample(store, 20, day="2026-11-03", stratify_by="timing.band", seed=1)
    assert sum(nested.strata.values()) == 20
    for band, count in nested.strata.items():  # proportional to what was left
        assert abs(count - 20 * left[band] / 60) < 1
    assert not set(first.item_ids) & set(nested.item_ids)
    rest = sample(store, 1000, day="2026-11-04")
    assert len(rest.item_ids) == 40  # only what is left
    with pytest.raises(AnnotationError, match="no conversations left"):
        sample(store, 5, day="2026-11-05")
    with pytest.raises(AnnotationError, match="YYYY-MM-DD"):
        sample(store, 5, day="yesterday")


def test_missing_field_is_its_own_stratum(store: Store, conversation: Any) -> None:
    lines = [conversation(f"a{i}", model="m") for i in range(6)] + [
        conversation(f"b{i}") for i in range(6)
    ]
    import_jsonl(store, io.StringIO("\n".join(json.dumps(x) for x in lines)), name="t.jsonl")
    drawn = sample(store, 4, stratify_by="model", seed=3)
    assert drawn.strata == {"(missing)": 2, "m": 2}


def test_same_day_same_seed_draws_the_same(tmp_path: Any, conversation: Any) -> None:
    drawn = []
    for name in ("a", "b"):
        with Store(tmp_path / f"{name}.db") as store:
            _load(store, conversation)
            drawn.append(sample(store, 30, day="2026-11-02", stratify_by="model").item_ids)
    assert drawn[0] == drawn[1]


def test_assignment_overlap_blindness_balance_and_gold(store: Store, conversation: Any) -> None:
    _load(store, conversation)
    for name in ("ada", "bob", "cy"):
        store.add_user(name, "rater", "password-123")
    drawn = sample(store, 30, day="2026-11-02", stratify_by="model", seed=2)
    plan = assign(store, ["ada", "bob", "cy"], overlap=0.4, raters_per_item=2, gold_per_rater=3)
    assert plan.overlap_items == 12
    # 12 items x 2 raters + 18 x 1 = 42 item slots, spread evenly; 3 gold each on top.
    assert sorted(plan.per_rater.values()) == [17, 17, 17]
    queues = {name: store.queue(name) for name in ("ada", "bob", "cy")}
    holders = Counter(e.item_id for q in queues.values() for e in q if e.item_id in drawn.item_ids)
    assert sorted(Counter(holders.values()).items()) == [(1, 18), (2, 12)]
    for queue in queues.values():
        assert [e.position for e in queue] == list(range(len(queue)))
        gold = [e for e in queue if e.item_id.startswith("g")]
        assert len(gold) == 3
        # Gold is mixed in, not stacked at the end, and a queue entry hides the gold flag.
        assert not hasattr(gold[0], "is_gold")
        assert all(e.status == "pending" for e in queue)
    # Overlap items come in a different order for each rater.
    orders = [[e.item_id for e in q if holders[e.item_id] == 2] for q in queues.values()]
    assert len({tuple(o) for o in orders}) == 3
    with pytest.raises(AnnotationError, match="already assigned"):
        assign(store, ["ada"], overlap=0.0)


def test_a_rater_only_writes_and_sees_their_own_queue(store: Store, conversation: Any) -> None:
    _load(store, conversation, n=10, gold=0)
    store.add_user("ada", "rater", "password-123")
    store.add_user("bob", "rater", "password-123")
    sample(store, 10, seed=1)
    assign(store, ["ada", "bob"], overlap=1.0)
    ada, bob = store.queue("ada"), store.queue("bob")
    assert {e.item_id for e in ada} == {e.item_id for e in bob}  # full overlap
    store.rate("ada", ada[0].item_id, {"overall_quality": 1}, assignment_id=ada[0].assignment_id)
    # Bob's view of the same item shows nothing of Ada's rating.
    same = next(e for e in store.queue("bob") if e.item_id == ada[0].item_id)
    assert same.status == "pending"
    assert store.own_ratings("bob", ada[0].item_id) == {}
    with pytest.raises(AnnotationError, match="not in bob's queue"):
        store.rate(
            "bob", ada[0].item_id, {"overall_quality": 5}, assignment_id=ada[0].assignment_id
        )
    with pytest.raises(AnnotationError, match="not in bob's queue"):
        store.skip("bob", ada[1].assignment_id, "not mine")
    store.skip("ada", ada[1].assignment_id, "not in English")
    statuses = {e.item_id: e.status for e in store.queue("ada")}
    assert statuses[ada[0].item_id] == "rated" and statuses[ada[1].item_id] == "skipped"


def test_assign_refuses_bad_plans(store: Store, conversation: Any) -> None:
    _load(store, conversation, n=10, gold=1)
    store.add_user("ada", "rater", "password-123")
    sample(store, 5)
    with pytest.raises(AnnotationError, match="no user 'zed'"):
        assign(store, ["ada", "zed"])
    with pytest.raises(
        AnnotationError, match="only 1 rater was given: give at least 2 raters, or overlap 0"
    ):
        assign(store, ["ada"], overlap=0.5)
    with pytest.raises(AnnotationError, match="1 stored"):
        assign(store, ["ada"], overlap=0.0, gold_per_rater=2)
