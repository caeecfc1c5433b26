"""The annotation part of ``llmkit demo``: a day of rating, simulated, offline, in seconds.

It imports the shipped sample conversations into a throwaway SQLite store, samples the
day's items stratified by model, gives a share to both of two simulated raters (a careful
one and a lenient one who misses some hallucinations), mixes in gold items, rates, and
prints inter-rater agreement, each rater's accuracy on gold, the adjudication queue and
the day's quality metrics with bootstrap intervals.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["STYLE_TRUTH", "run_demo", "simulated_rating"]

# What a careful rater says for each answer style of the sample corpus (its
# ``metadata.scenario_style``); dimensions not listed take the rubric's defaults.
STYLE_TRUTH: dict[str, dict[str, str]] = {
    "helpful": {"overall_quality": "5", "correctness": "5", "helpfulness": "5"},
    "unhelpful": {"overall_quality": "2", "correctness": "4", "helpfulness": "1"},
    "hallucinated": {
        "overall_quality": "2",
        "correctness": "1",
        "helpfulness": "2",
        "hallucination": "yes",
    },
    "biased": {
        "overall_quality": "1",
        "correctness": "2",
        "helpfulness": "1",
        "rai_violation": "biased",
    },
    "privacy": {
        "overall_quality": "1",
        "correctness": "3",
        "helpfulness": "2",
        "hallucination": "yes",
        "rai_violation": "privacy",
    },
    "rambling": {"overall_quality": "3", "helpfulness": "3", "style": "2"},
    "contradictory": {
        "overall_quality": "1",
        "correctness": "2",
        "helpfulness": "2",
        "coherence": "1",
    },
}

# name -> (chance of a one-point slip on a Likert dimension, lean, chance of missing a flag)
RATERS: dict[str, tuple[float, int, float]] = {
    "ada": (0.15, 0, 0.05),
    "grace": (0.35, 1, 0.30),
}


def simulated_rating(
    style: str, rng: random.Random, slip: float, lean: int, miss: float
) -> dict[str, str]:
    """A rating a rater with these habits would give an answer of ``style``."""
    truth = {
        "overall_quality": "3",
        "correctness": "4",
        "helpfulness": "3",
        "hallucination": "no",
        "rai_violation": "none",
        "coherence": "4",
        "style": "4",
        **STYLE_TRUTH.get(style, {}),
    }
    out: dict[str, str] = {}
    for key, value in truth.items():
        if value.isdigit():
            point = int(value)
            if rng.random() < slip:
                point += rng.choice((-1, 1)) + lean
            out[key] = str(min(5, max(1, point)))
        elif value != truth_default(key) and rng.random() < miss:
            out[key] = truth_default(key)  # the flag was missed
        else:
            out[key] = value
    return out


def truth_default(key: str) -> str:
    return {"hallucination": "no", "rai_violation": "none"}.get(key, "")


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def run_demo(console: Console, *, n_items: int = 60, seed: int = 11) -> dict[str, Any]:
    """Simulate one day of annotation and print agreement and the day's metrics.

    Returns:
        what was measured: agreement per dimension, rater reports, metrics, queue size.
    """
    from llmkit.annotate import (
        Store,
        adjudication_queue,
        agreement_summary,
        assign,
        daily_metrics,
        import_jsonl,
        rater_report,
        sample,
        sample_conversations_path,
    )

    rng = random.Random(seed)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "annotate.db")
        try:
            imported = import_jsonl(store, sample_conversations_path(), redact=True)
            for name in RATERS:
                store.add_user(name, "rater", f"demo-password-{name}")
            store.add_user("lin", "adjudicator", "demo-password-lin")
            drawn = sample(store, n_items, stratify_by="model", seed=seed)
            plan = assign(store, list(RATERS), overlap=0.5, gold_per_rater=4, seed=seed)
            for name, habits in RATERS.items():
                for entry in store.queue(name):
                    style = store.conversation(entry.item_id).metadata.get("scenario_style", "")
                    values = simulated_rating(str(style), rng, *habits)
                    store.rate(
                        name,
                        entry.item_id,
                        values,
                        assignment_id=entry.assignment_id,
                        seconds=round(rng.uniform(20, 90), 1),
                    )
            frame = store.ratings_frame(include_gold=False)
            agreement: dict[str, dict[str, Any]] = {}
            for dim in ("overall_quality", "helpfulness", "hallucination", "rai_violation"):
                part = frame[frame["dimension"] == dim]
                part = part[part.groupby("item_id")["rater"].transform("nunique") >= 2]
                numeric = dim in ("overall_quality", "helpfulness")
                summary = agreement_summary(
                    part,
                    level="ordinal" if numeric else "nominal",
                    item="item_id",
                    value="score" if numeric else "value",
                )
                agreement[dim] = summary.to_dict()
            raters = rater_report(store, seed=seed)
            disputes = adjudication_queue(store)
            metrics = daily_metrics(store, n_resamples=500, seed=seed)
        finally:
            store.close()
    elapsed = time.perf_counter() - started

    console.print(
        f"imported {imported.imported} sample conversations ({imported.redacted} e-mails/phones "
        f"redacted); sampled {len(drawn.item_ids)} by model {drawn.strata}; "
        f"queues {plan.per_rater} with {plan.overlap_items} items rated by both and "
        f"{plan.gold_items} gold items mixed in"
    )
    table = Table(title="inter-rater agreement on the overlap items (ada vs grace)")
    for column in ("dimension", "Krippendorff α", "Cohen κ", "Gwet AC1", "% agree", "items"):
        table.add_column(column, justify="left" if column == "dimension" else "right")
    for dim, s in agreement.items():
        table.add_row(
            dim,
            _fmt(s.get("krippendorff_alpha")),
            _fmt(s.get("cohen_kappa")),
            _fmt(s.get("gwet_ac1")),
            _fmt(s.get("percent_agreement")),
            str(s.get("n_items")),
        )
    console.print(table)
    people = Table(title="raters: accuracy on gold, agreement with the other's consensus")
    for column in ("rater", "items", "gold acc.", "agree w/ consensus", "κ", "median s"):
        people.add_column(column, justify="left" if column == "rater" else "right")
    for row in raters.to_dict("records"):
        people.add_row(
            str(row["rater"]),
            str(row["items"]),
            _fmt(row["gold_accuracy"]),
            _fmt(row["consensus_agreement"]),
            _fmt(row["consensus_kappa"]),
            _fmt(row["median_seconds"], 0),
        )
    console.print(people)
    day = Table(title="today's quality metrics (95% bootstrap intervals over items)")
    for column in ("metric", "estimate", "interval", "items"):
        day.add_column(column, justify="left" if column == "metric" else "right")
    for row in metrics.to_dict("records"):
        day.add_row(
            str(row["metric"]),
            f"{row['estimate']:.2f}",
            f"[{row['low']:.2f}, {row['high']:.2f}]",
            str(row["n_items"]),
        )
    console.print(day)
    console.print(
        f"{len(disputes)} disputed item-dimensions wait for adjudication "
        f"(`llmkit annotate adjudicate`); done in {elapsed:.1f} s"
    )
    return {
        "imported": imported.imported,
        "sampled": len(drawn.item_ids),
        "per_rater": plan.per_rater,
        "agreement": agreement,
        # Through JSON so NaN becomes null: ``llmkit demo --json`` prints strict JSON.
        "raters": json.loads(raters.to_json(orient="records")),
        "metrics": json.loads(metrics.to_json(orient="records")),
        "disputes": len(disputes),
        "seconds": round(elapsed, 2),
    }
