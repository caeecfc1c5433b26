"""Pairwise A/B items: imported with their two answers, sides drawn per assignment and kept."""

from __future__ import annotations

import io
import json
import textwrap

import pytest

from llmkit.annotate import (
    ImportDataError,
    Store,
    assign,
    daily_metrics,
    import_jsonl,
    parse_rubric,
    sample,
)

RUBRIC = textwrap.dedent(
    """
    name: ab
    dimensions:
      - key: preference
        title: Which answer is better?
        guideline: Pick the answer you would rather receive.
        scale: {type: pairwise}
    """
)


def _items(n: int) -> io.StringIO:
    lines = [
        {
            "id": f"p{i}",
            "messages": [{"role": "user", "content": f"question {i}"}],
            "alternatives": {"A": f"first answer {i}", "B": f"second answer {i}"},
        }
        for i in range(n)
    ]
    return io.StringIO("\n".join(json.dumps(x) for x in lines))


def test_pairwise_sides_are_random_stable_and_recorded(store: Store) -> None:
    import_jsonl(store, _items(12), name="ab.jsonl")
    store.add_user("ada", "rater", "password-123")
    sample(store, 12, seed=1)
    assign(store, ["ada"], rubric=parse_rubric(RUBRIC), overlap=0.0)
    queue = store.queue("ada")
    assert all(e.alternatives.keys() == {"A", "B"} for e in queue)
    assert {e.left for e in queue} == {"A", "B"}  # both sides occur over 12 items
    assert [e.left for e in store.queue("ada")] == [e.left for e in queue]  # stable on reload
    for entry in queue:
        store.rate("ada", entry.item_id, {"preference": "a"}, assignment_id=entry.assignment_id)
    with store.engine.connect() as conn:
        import sqlalchemy as sa

        kept = conn.execute(sa.text("SELECT extra_json FROM submissions ORDER BY id")).scalars()
        assert [json.loads(x)["left"] for x in kept] == [e.left for e in queue]
    metrics = daily_metrics(store, n_resamples=200)
    assert metrics["metric"].tolist() == ["preference_a_share"]
    assert metrics["estimate"].tolist() == [1.0]


def test_bad_alternatives_are_rejected(store: Store) -> None:
    bad = {"id": "x", "messages": [{"role": "user", "content": "q"}], "alternatives": {"A": "a"}}
    with pytest.raises(ImportDataError, match="alternatives") as info:
        import_jsonl(store, io.StringIO(json.dumps(bad)), name="ab.jsonl")
    assert info.value.line == 1
