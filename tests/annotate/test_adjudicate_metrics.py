"""Adjudication, rater reports, daily metrics with intervals, trend plot and export."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from llmkit.annotate import (
    AnnotationError,
    Conversation,
    Rubric,
    Store,
    adjudication_queue,
    consensus_labels,
    daily_metrics,
    export_ratings,
    final_labels,
    plot_trend,
    rater_drift,
    rater_report,
    set_final_label,
)

DAY1 = dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC).timestamp()
DAY2 = dt.datetime(2026, 11, 3, 12, tzinfo=dt.UTC).timestamp()

# item -> rater -> (overall_quality, hallucination)
RATINGS = {
    "a": {"ada": (5, "no"), "bob": (4, "no")},  # within the threshold
    "b": {"ada": (1, "yes"), "bob": (4, "no")},  # disputed on both
    "c": {"ada": (3, "no")},  # single
}


def _setup(store: Store, rubric: Rubric) -> int:
    rubric_id = store.register_rubric(rubric).id
    items = [Conversation(i, ({"role": "user", "content": i},)) for i in ("a", "b", "c", "d")]
    items.append(
        Conversation("g", ({"role": "user", "content": "g"},), gold={"hallucination": "yes"})
    )
    store.add_conversations(items, source="t")
    for name, role in (("ada", "rater"), ("bob", "rater"), ("lin", "adjudicator")):
        store.add_user(name, role, "password-123")
    for item, by_rater in RATINGS.items():
        for rater, (quality, hallucinated) in by_rater.items():
            store.rate(
                rater,
                item,
                {"overall_quality": quality, "hallucination": hallucinated},
                rubric_id=rubric_id,
                require_assignment=False,
                rated_at=DAY1,
                seconds=10.0 if rater == "ada" else 30.0,
            )
    # Day 2: one more item; gold rated right by ada and wrong by bob.
    store.rate(
        "ada",
        "d",
        {"overall_quality": 2, "hallucination": "yes"},
        rubric_id=rubric_id,
        require_assignment=False,
        rated_at=DAY2,
    )
    store.rate(
        "ada",
        "g",
        {"hallucination": "yes"},
        rubric_id=rubric_id,
        require_assignment=False,
        rated_at=DAY2,
    )
    store.rate(
        "bob",
        "g",
        {"hallucination": "no"},
        rubric_id=rubric_id,
        require_assignment=False,
        rated_at=DAY2,
    )
    return rubric_id


@pytest.mark.slow
def test_disputes_then_final_label_with_provenance(store: Store, rubric: Rubric) -> None:
    _setup(store, rubric)
    disputes = adjudication_queue(store)
    assert {(d.item_id, d.dimension) for d in disputes} == {
        ("b", "overall_quality"),
        ("b", "hallucination"),
    }  # a differs by 1 point (not beyond 1); c has one rater; gold is never disputed
    quality = next(d for d in disputes if d.dimension == "overall_quality")
    assert quality.values == {"ada": "1", "bob": "4"} and quality.spread == 3.0
    assert len(adjudication_queue(store, threshold=3.0)) == 1  # only the binary one left
    assert len(adjudication_queue(store, threshold=0.0)) == 3  # a's 5 vs 4 now counts

    with pytest.raises(AnnotationError, match="only adjudicators"):
        set_final_label(store, "b", "overall_quality", 2, by="ada")
    with pytest.raises(AnnotationError, match="not one of"):
        set_final_label(store, "b", "overall_quality", 9, by="lin")
    set_final_label(store, "b", "overall_quality", "2", by="lin", note="too harsh and too kind")
    labels = final_labels(store)
    row = labels.iloc[0].to_dict()
    assert (row["item_id"], row["value"], row["method"], row["decided_by"]) == (
        "b",
        "2",
        "adjudicated",
        "lin",
    )
    assert row["note"] == "too harsh and too kind"
    assert sorted((s["rater"], s["value"]) for s in row["sources"]) == [("ada", "1"), ("bob", "4")]
    assert [(d.item_id, d.dimension) for d in adjudication_queue(store)] == [("b", "hallucination")]

    cons = consensus_labels(store)
    got = {
        (r["item_id"], r["dimension"]): (r["value"], r["method"])
        for r in cons.to_dict("records")
        if r["dimension"] in ("overall_quality", "hallucination")
    }
    assert got[("a", "overall_quality")] == (
        "4",
        "consensus",
    )  # median of 4 and 5, rounded half-even
    assert got[("b", "overall_quality")] == ("2", "adjudicated")
    assert got[("b", "hallucination")] == (None, "disputed")
    assert got[("c", "overall_quality")] == ("3", "single")


@pytest.mark.slow
def test_rater_report_gold_accuracy_consensus_and_drift(store: Store, rubric: Rubric) -> None:
    _setup(store, rubric)
    report = rater_report(store).set_index("rater")
    assert report.loc["ada", "gold_accuracy"] == 1.0
    assert report.loc["bob", "gold_accuracy"] == 0.0
    assert report.loc["ada", "gold_items"] == 1
    assert report.loc["ada", "items"] == 4 and report.loc["bob", "items"] == 2
    assert report.loc["ada", "median_seconds"] == 10.0
    assert report.loc["ada", "consensus_items"] == 2  # a and b have a second rater
    assert 0.0 <= report.loc["ada", "consensus_agreement"] <= 1.0
    drift = rater_drift(store)
    ada = drift[drift["rater"] == "ada"].set_index("day")
    assert list(ada.index) == ["2026-11-02", "2026-11-03"]
    assert ada.loc["2026-11-03", "gold_accuracy"] == 1.0
    # Day 1: ada rated a 5 (bob 4) and b 1 (bob 4) -> mean of +1 and -3 over the Likert dims.
    assert ada.loc["2026-11-02", "bias"] < 0


@pytest.mark.slow
def test_daily_metrics_per_day_with_intervals(store: Store, rubric: Rubric) -> None:
    _setup(store, rubric)
    metrics = daily_metrics(store, n_resamples=300, seed=1)
    m = metrics.set_index(["day", "metric"])
    q1 = m.loc[("2026-11-02", "overall_quality_mean")]
    # Per item mean over raters: a 4.5, b 2.5, c 3 -> 3.333
    assert q1["estimate"] == pytest.approx((4.5 + 2.5 + 3) / 3)
    assert q1["low"] <= q1["estimate"] <= q1["high"]
    assert (q1["n_items"], q1["n_ratings"]) == (3, 5)
    h1 = m.loc[("2026-11-02", "hallucination_rate")]
    assert h1["estimate"] == pytest.approx((0 + 0.5 + 0) / 3)
    h2 = m.loc[("2026-11-03", "hallucination_rate")]
    assert (h2["estimate"], h2["n_items"]) == (1.0, 1)  # gold item g left out
    assert m.loc[("2026-11-02", "rai_violation_rate")]["estimate"] == 0.0
    assert set(metrics["rubric_version"]) == {1}
    again = daily_metrics(store, n_resamples=300, seed=1)
    pd.testing.assert_frame_equal(metrics, again)  # seeded: same interval
    assert set(daily_metrics(store, days=1)["day"]) == {"2026-11-03"}


@pytest.mark.slow
def test_trend_plot_is_a_png(store: Store, rubric: Rubric, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    _setup(store, rubric)
    out = plot_trend(daily_metrics(store, n_resamples=200), tmp_path / "trend.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(AnnotationError, match="nothing to plot"):
        plot_trend(pd.DataFrame(columns=["metric"]), tmp_path / "empty.png")


@pytest.mark.slow
def test_export_csv_and_jsonl_with_rater_ids(store: Store, rubric: Rubric, tmp_path: Path) -> None:
    _setup(store, rubric)
    n_csv = export_ratings(store, tmp_path / "r.csv")
    n_jsonl = export_ratings(store, tmp_path / "r.jsonl")
    frame = pd.read_csv(tmp_path / "r.csv")
    assert n_csv == n_jsonl == len(frame) == len(store.ratings_frame())
    ids = {u.name: u.id for u in store.users()}
    assert set(zip(frame["rater"], frame["rater_id"], strict=True)) == {
        ("ada", ids["ada"]),
        ("bob", ids["bob"]),
    }
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert rows[0].keys() >= {
        "item_id",
        "rater",
        "rater_id",
        "dimension",
        "value",
        "rubric_version",
        "rated_at",
    }
    assert all(r["seconds"] is None or isinstance(r["seconds"], float) for r in rows)
    with pytest.raises(AnnotationError, match="format"):
        export_ratings(store, tmp_path / "r.xlsx")
