"""The store's ratings as a pandas DataFrame: one row per (submission, dimension)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from llmkit.annotate import _schema as t

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ratings_frame", "records"]


def ratings_frame(
    engine: sa.Engine,
    *,
    include_gold: bool = True,
    latest: bool = True,
    include_untouched: bool = False,
) -> pd.DataFrame:
    """Every rating as a DataFrame, one row per (submission, dimension).

    Columns: ``item_id, rater, dimension, value, rubric_version, rated_at`` then
    ``rubric, rubric_id, score, is_gold, submission_id, seconds, first_rated_at,
    touched``. ``value`` is the canonical string; ``score`` is its number (likert
    points, binary yes=1 no=0, pairwise A=1 B=0 tie=0.5) or NaN. ``rated_at`` is a UTC
    timestamp (of the edit, for an edited rating); ``first_rated_at`` is when the rater
    first rated the item. With ``latest`` only each rater's newest submission per item
    counts. ``touched`` is false where the rater never chose a value and the rubric's
    default was stored; such rows are left out unless ``include_untouched``.
    """
    import pandas as pd

    sub, r, u, rb = t.submissions, t.ratings, t.users, t.rubrics
    query = (
        sa.select(
            sub.c.item_id,
            u.c.name.label("rater"),
            r.c.dimension,
            r.c.value,
            rb.c.version.label("rubric_version"),
            sub.c.rated_at,
            rb.c.name.label("rubric"),
            sub.c.rubric_id,
            sub.c.id.label("submission_id"),
            sub.c.seconds,
            sub.c.extra_json,
            sub.c.rater_id,
        )
        .select_from(
            r.join(sub, sub.c.id == r.c.submission_id)
            .join(u, u.c.id == sub.c.rater_id)
            .join(rb, rb.c.id == sub.c.rubric_id)
        )
        .where(sub.c.status == "rated")
        .order_by(sub.c.id, r.c.id)
    )
    if latest:
        newest = (
            sa.select(sa.func.max(sub.c.id))
            .group_by(sub.c.item_id, sub.c.rater_id)
            .scalar_subquery()
        )
        query = query.where(sub.c.id.in_(newest))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        gold_items = set(conn.execute(sa.select(t.gold_labels.c.item_id)).scalars())
    columns = [
        "item_id",
        "rater",
        "dimension",
        "value",
        "rubric_version",
        "rated_at",
        "rubric",
        "rubric_id",
        "submission_id",
        "seconds",
        "extra_json",
        "rater_id",
    ]
    frame = pd.DataFrame([tuple(row) for row in rows], columns=columns)
    untouched = {
        sid: set(json.loads(extra).get("untouched", ()))
        for sid, extra in set(zip(frame["submission_id"], frame["extra_json"], strict=True))
        if extra and "untouched" in extra
    }
    frame["touched"] = pd.Series(
        [
            dim not in untouched.get(sid, ())
            for sid, dim in zip(frame["submission_id"], frame["dimension"], strict=True)
        ],
        index=frame.index,
        dtype=bool,
    )
    if not include_untouched:
        frame = frame[frame["touched"]].reset_index(drop=True)
    if latest and not frame.empty:  # an edited rating's first time is an older submission
        with engine.connect() as conn:
            firsts = {
                (item, rater): when
                for item, rater, when in conn.execute(
                    sa.select(sub.c.item_id, sub.c.rater_id, sa.func.min(sub.c.rated_at))
                    .where(sub.c.status == "rated")
                    .group_by(sub.c.item_id, sub.c.rater_id)
                )
            }
        first = pd.Series(
            [
                firsts.get((item, rater), when)
                for item, rater, when in zip(
                    frame["item_id"], frame["rater_id"], frame["rated_at"], strict=True
                )
            ],
            index=frame.index,
            dtype="float64",
        )
    else:
        first = frame.groupby(["item_id", "rater"])["rated_at"].transform("min")
    frame["first_rated_at"] = pd.to_datetime(first.astype("float64"), unit="s", utc=True)
    frame["rated_at"] = pd.to_datetime(frame["rated_at"].astype("float64"), unit="s", utc=True)
    frame["score"] = frame["value"].map(_score).astype("float64")
    frame["is_gold"] = frame["item_id"].isin(gold_items)
    if not include_gold:
        frame = frame[~frame["is_gold"]].reset_index(drop=True)
    order = [*columns[:7], "rubric_id", "score", "is_gold", "submission_id", "seconds"]
    return frame[[*order, "first_rated_at", "touched"]]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame's rows as plain dicts (typed loosely, for row-wise code)."""
    rows: list[dict[str, Any]] = frame.to_dict("records")  # type: ignore[assignment]
    return rows


_SCORES = {"yes": 1.0, "no": 0.0, "A": 1.0, "B": 0.0, "tie": 0.5}


def _score(value: str) -> float:
    if value in _SCORES:
        return _SCORES[value]
    try:
        number = float(value)
    except ValueError:
        return float("nan")
    return number if number == number and abs(number) != float("inf") else float("nan")
