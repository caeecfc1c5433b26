"""Adjudication: disputed items, final labels with provenance, and per-rater reports.

An item's dimension is disputed when its raters' latest ratings disagree beyond a
threshold: on a Likert scale, when the highest and lowest points differ by more than the
threshold; on any other scale, when any two values differ. Adjudicators set a final label;
each keeps who decided, when, why and which submissions it settled (append-only: the
newest counts).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from llmkit.annotate import _schema as t
from llmkit.annotate._store import AnnotationError, Store, records

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Dispute",
    "adjudication_queue",
    "consensus_labels",
    "final_labels",
    "rater_drift",
    "rater_report",
    "set_final_label",
]

ADJUDICATOR_ROLES = ("adjudicator", "admin")


@dataclass(frozen=True)
class Dispute:
    """One disputed (item, dimension).

    Attributes:
        item_id: the conversation.
        dimension: the dimension key.
        rubric_version: the rubric version of the latest ratings.
        values: rater -> value.
        spread: highest minus lowest point (Likert), else the number of distinct values.
    """

    item_id: str
    dimension: str
    rubric_version: int
    values: dict[str, str]
    spread: float

    def to_dict(self) -> dict[str, Any]:
        """The dispute as plain JSON-ready data."""
        return {
            "item_id": self.item_id,
            "dimension": self.dimension,
            "rubric_version": self.rubric_version,
            "values": self.values,
            "spread": self.spread,
        }


def _scale_types(store: Store, frame: pd.DataFrame) -> dict[tuple[int, str], str]:
    types: dict[tuple[int, str], str] = {}
    for rubric_id in frame["rubric_id"].unique():
        rubric = store.rubric_version(int(rubric_id)).rubric
        for dim in rubric.dimensions:
            types[(int(rubric_id), dim.key)] = dim.scale.type
    return types


def _latest_final(store: Store) -> dict[tuple[str, str], Any]:
    fl = t.final_labels
    newest = sa.select(sa.func.max(fl.c.id)).group_by(fl.c.item_id, fl.c.dimension)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(fl).where(fl.c.id.in_(newest))).all()
    return {(r.item_id, r.dimension): r for r in rows}


def adjudication_queue(
    store: Store, *, threshold: float = 1.0, include_settled: bool = False
) -> list[Dispute]:
    """Disputed (item, dimension) pairs not yet settled by a final label, by item.

    Gold items are left out: their answer is known. Free-text comments never dispute.
    """
    frame = store.ratings_frame(include_gold=False)
    if frame.empty:
        return []
    types = _scale_types(store, frame)
    settled = {} if include_settled else _latest_final(store)
    out: list[Dispute] = []
    for (item_id, dim), group in frame.groupby(["item_id", "dimension"], sort=True):
        if len(group) < 2 or (str(item_id), str(dim)) in settled:
            continue
        scale = types.get((int(group["rubric_id"].iloc[-1]), str(dim)), "comment")
        if scale == "comment":
            continue
        if scale == "likert":
            spread = float(group["score"].max() - group["score"].min())
            disputed = spread > threshold
        else:
            spread = float(group["value"].nunique())
            disputed = spread > 1
        if disputed:
            out.append(
                Dispute(
                    item_id=str(item_id),
                    dimension=str(dim),
                    rubric_version=int(group["rubric_version"].iloc[-1]),
                    values=dict(zip(group["rater"], group["value"], strict=True)),
                    spread=spread,
                )
            )
    return out


def set_final_label(
    store: Store,
    item_id: str,
    dimension: str,
    value: Any,
    *,
    by: str,
    note: str | None = None,
) -> int:
    """Settle one (item, dimension) with a final label, keeping its provenance.

    The value is checked against the scale of the rubric the item was rated with; the
    label records the deciding user, the time, the note and every rating it settled.

    Raises:
        AnnotationError: ``by`` is not an adjudicator or admin, the item has no ratings
            of that dimension, or the value is off the scale.
    """
    user = store.user(by)
    if user.role not in ADJUDICATOR_ROLES:
        raise AnnotationError(f"{by} is a {user.role}: only adjudicators and admins decide")
    frame = store.ratings_frame()
    rows = frame[(frame["item_id"] == item_id) & (frame["dimension"] == dimension)]
    if rows.empty:
        raise AnnotationError(f"item {item_id!r} has no ratings of {dimension!r}")
    rubric_id = int(rows["rubric_id"].iloc[-1])
    dim = store.rubric_version(rubric_id).rubric.dimension(dimension)
    try:
        clean = dim.scale.normalise(value)
    except ValueError as exc:
        raise AnnotationError(f"dimension {dimension!r}: {exc}") from None
    sources = [
        {"submission_id": int(r["submission_id"]), "rater": r["rater"], "value": r["value"]}
        for r in records(rows)
    ]
    with store.transaction() as conn:
        key = conn.execute(
            t.final_labels.insert().values(
                item_id=item_id,
                dimension=dimension,
                value=clean,
                rubric_id=rubric_id,
                method="adjudicated",
                decided_by=user.id,
                sources_json=json.dumps(sources),
                note=(note or "").strip()[:2000] or None,
                decided_at=time.time(),
            )
        ).inserted_primary_key
    assert key is not None
    return int(key[0])


def final_labels(store: Store) -> pd.DataFrame:
    """The newest final label per (item, dimension), with its provenance."""
    import pandas as pd

    latest = _latest_final(store)
    names = {u.id: u.name for u in store.users()}
    rows = [
        {
            "item_id": r.item_id,
            "dimension": r.dimension,
            "value": r.value,
            "method": r.method,
            "decided_by": names.get(r.decided_by),
            "decided_at": pd.Timestamp(r.decided_at, unit="s", tz="UTC"),
            "note": r.note,
            "sources": json.loads(r.sources_json),
        }
        for r in latest.values()
    ]
    columns = ["item_id", "dimension", "value", "method", "decided_by", "decided_at", "note"]
    return pd.DataFrame(rows, columns=[*columns, "sources"])


def consensus_labels(store: Store, *, threshold: float = 1.0) -> pd.DataFrame:
    """One label per (item, dimension) of every rated non-gold item, with how it was reached.

    ``method``: ``adjudicated`` (a final label), ``consensus`` (two or more raters within
    the threshold: the median point, or the majority value), ``single`` (one rater), or
    ``disputed`` (no label yet: value is None).
    """
    import pandas as pd

    frame = store.ratings_frame(include_gold=False)
    columns = ["item_id", "dimension", "value", "method", "n_raters"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    types = _scale_types(store, frame)
    settled = _latest_final(store)
    disputed = {
        (d.item_id, d.dimension)
        for d in adjudication_queue(store, threshold=threshold, include_settled=True)
    }
    rows = []
    for (item_id, dim), group in frame.groupby(["item_id", "dimension"], sort=True):
        key = (str(item_id), str(dim))
        scale = types.get((int(group["rubric_id"].iloc[-1]), str(dim)), "comment")
        if scale == "comment":
            continue
        n = len(group)
        if key in settled:
            value, method = settled[key].value, "adjudicated"
        elif n == 1:
            value, method = str(group["value"].iloc[0]), "single"
        elif key in disputed:
            value, method = None, "disputed"
        elif scale == "likert":
            value, method = str(round(float(group["score"].median()))), "consensus"
        else:
            value, method = str(group["value"].mode().sort_values().iloc[0]), "consensus"
        rows.append(
            {
                "item_id": key[0],
                "dimension": key[1],
                "value": value,
                "method": method,
                "n_raters": n,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def _gold_accuracy(store: Store, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per gold rating: rater, day, dimension, correct."""
    import pandas as pd

    gold = store.gold()
    rows = [
        {
            "rater": r.rater,
            "day": r.rated_at.date().isoformat(),
            "dimension": r.dimension,
            "correct": float(gold[r.item_id][r.dimension] == r.value),
        }
        for r in map(lambda rec: SimpleNamespace(**rec), records(frame[frame["is_gold"]]))
        if r.dimension in gold.get(r.item_id, {})
    ]
    return pd.DataFrame(rows, columns=["rater", "day", "dimension", "correct"])


def rater_report(store: Store, *, seed: int = 0, ci: bool = False) -> pd.DataFrame:
    """Per rater: workload, accuracy on gold items, agreement with the others' consensus.

    Columns: ``rater, items, gold_items, gold_accuracy, consensus_items,
    consensus_agreement, consensus_kappa, mean_abs_diff, median_seconds``. Agreement
    with the consensus comes from :func:`llmkit.annotate.consensus_agreement` (the others'
    leave-one-out consensus, per dimension, averaged over dimensions weighted by items).
    """
    import numpy as np
    import pandas as pd

    from llmkit.annotate._agreement import consensus_agreement

    frame = store.ratings_frame()
    columns = [
        "rater",
        "items",
        "gold_items",
        "gold_accuracy",
        "consensus_items",
        "consensus_agreement",
        "consensus_kappa",
        "mean_abs_diff",
        "median_seconds",
    ]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    gold = _gold_accuracy(store, frame)
    types = _scale_types(store, frame)
    scale = pd.Series(
        [
            types.get((int(i), str(d)))
            for i, d in zip(frame["rubric_id"], frame["dimension"], strict=True)
        ],
        index=frame.index,
    )
    rated = frame[(~frame["is_gold"]) & (scale != "comment")]
    cons_parts = []
    for numeric, part in rated.groupby(scale.loc[rated.index] == "likert"):
        if part.empty:
            continue
        cons_parts.append(
            consensus_agreement(
                part,
                by=("dimension",),
                level="ordinal" if numeric else "nominal",
                item="item_id",
                value="score" if numeric else "value",
                ci=ci,
                seed=seed,
            )
        )
    cons = pd.concat(cons_parts, ignore_index=True) if cons_parts else pd.DataFrame()
    rows = []
    for rater, own in frame.groupby("rater", sort=True):
        g = gold[gold["rater"] == rater]
        c = cons[cons["rater"] == rater] if not cons.empty else cons
        weights = c["n_items"].to_numpy(dtype=float) if not c.empty else np.array([])

        def weighted(column: str, c: pd.DataFrame = c, weights: Any = weights) -> float | None:
            if c.empty or column not in c:
                return None
            vals = c[column].to_numpy(dtype=float)
            ok = ~np.isnan(vals) & (weights > 0)
            return float(np.average(vals[ok], weights=weights[ok])) if ok.any() else None

        seconds = own.drop_duplicates("submission_id")["seconds"].dropna()
        rows.append(
            {
                "rater": rater,
                "items": int(own.loc[~own["is_gold"], "item_id"].nunique()),
                "gold_items": int(own.loc[own["is_gold"], "item_id"].nunique()),
                "gold_accuracy": float(g["correct"].mean()) if len(g) else None,
                "consensus_items": int(c["n_items"].max()) if not c.empty else 0,
                "consensus_agreement": weighted("agreement"),
                "consensus_kappa": weighted("cohen_kappa"),
                "mean_abs_diff": weighted("mean_abs_diff"),
                "median_seconds": float(seconds.median()) if len(seconds) else None,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def rater_drift(store: Store) -> pd.DataFrame:
    """Per rater and day: gold accuracy, and mean signed distance from the other raters.

    ``bias`` is the rater's Likert point minus the mean of the other raters' points on the
    same overlap items (positive: rates higher than colleagues). A trend in either column
    over days is drift.
    """
    import pandas as pd

    frame = store.ratings_frame()
    columns = ["rater", "day", "ratings", "gold_accuracy", "bias"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame = frame.assign(day=frame["rated_at"].dt.strftime("%Y-%m-%d"))
    gold = _gold_accuracy(store, frame)
    types = _scale_types(store, frame)
    likert = [
        types.get((int(i), d)) == "likert"
        for i, d in zip(frame["rubric_id"], frame["dimension"], strict=True)
    ]
    numeric = frame[(~frame["is_gold"]) & pd.Series(likert, index=frame.index)]
    grouped = numeric.groupby(["item_id", "dimension"])["score"]
    total, count = grouped.transform("sum"), grouped.transform("count")
    others = (total - numeric["score"]) / (count - 1)
    numeric = numeric.assign(diff=(numeric["score"] - others).where(count > 1))
    rows = []
    for (rater, day), own in frame.groupby(["rater", "day"], sort=True):
        g = gold[(gold["rater"] == rater) & (gold["day"] == day)]
        d = numeric[(numeric["rater"] == rater) & (numeric["day"] == day)]["diff"].dropna()
        rows.append(
            {
                "rater": rater,
                "day": day,
                "ratings": int(own["submission_id"].nunique()),
                "gold_accuracy": float(g["correct"].mean()) if len(g) else None,
                "bias": float(d.mean()) if len(d) else None,
            }
        )
    return pd.DataFrame(rows, columns=columns)
