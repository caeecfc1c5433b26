"""Quality metrics per day and rubric version, with bootstrap intervals; trend plot; export.

A metric's unit is the conversation: each item's value is the mean over its raters (a
Likert point, or the share of raters who flagged it), and the interval resamples items
(:func:`llmkit.stats.bootstrap_ci`, seeded). Gold items are left out: they measure raters,
not the model.

Metrics: ``<dimension>_mean`` for Likert dimensions (overall quality, correctness...),
``<dimension>_rate`` for binary and flagged categorical ones (hallucination rate,
RAI-violation rate), ``<dimension>_a_share`` for pairwise ones.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

from llmkit.annotate._csv_safe import csv_safe
from llmkit.annotate._store import AnnotationError, Store, records
from llmkit.extras import install_command

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DailyMetric", "daily_metrics", "export_ratings", "plot_trend"]

PLOT_HINT = f"the trend plot needs the plot extra: {install_command('plot')}"


@dataclass(frozen=True)
class DailyMetric:
    """One metric on one day under one rubric version."""

    day: str
    rubric: str
    rubric_version: int
    metric: str
    dimension: str
    estimate: float
    low: float
    high: float
    n_items: int
    n_ratings: int

    def to_dict(self) -> dict[str, Any]:
        """The metric as plain JSON-ready data (one row of a DataFrame)."""
        return dict(self.__dict__)


def _item_values(store: Store, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (day, rubric version, metric, item): the item's value over its raters."""
    import pandas as pd

    kinds: dict[tuple[int, str], tuple[str, tuple[str, ...]]] = {}
    for rubric_id in frame["rubric_id"].unique():
        for dim in store.rubric_version(int(rubric_id)).rubric.dimensions:
            if dim.scale.type == "likert":
                kinds[(int(rubric_id), dim.key)] = ("mean", ())
            elif dim.scale.type == "pairwise":
                kinds[(int(rubric_id), dim.key)] = ("a_share", ("A",))
            elif dim.flagged():
                kinds[(int(rubric_id), dim.key)] = ("rate", dim.flagged())
    rows = []
    for rec in records(frame):
        r = SimpleNamespace(**rec)
        kind = kinds.get((int(r.rubric_id), str(r.dimension)))
        if kind is None:
            continue
        name, flagged = kind
        value = float(r.score) if name == "mean" else float(r.value in flagged)
        if math.isnan(value):
            continue
        rows.append(
            {
                "day": r.rated_at.date().isoformat(),
                "rubric": r.rubric,
                "rubric_version": int(r.rubric_version),
                "metric": f"{r.dimension}_{name}",
                "dimension": r.dimension,
                "item_id": r.item_id,
                "value": value,
            }
        )
    columns = ["day", "rubric", "rubric_version", "metric", "dimension", "item_id", "value"]
    return pd.DataFrame(rows, columns=columns)


def _mean_of(values: Any) -> Any:
    return lambda idx: float(values[idx].mean())


def daily_metrics(
    store: Store,
    *,
    confidence: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
    days: int | None = None,
    include_untouched: bool = False,
) -> pd.DataFrame:
    """Every metric per day and rubric version, with a bootstrap interval over items.

    Args:
        store: the annotation store.
        confidence: interval level.
        n_resamples: bootstrap resamples.
        seed: bootstrap seed (same data, same interval).
        days: keep only the last this many days with ratings.
        include_untouched: count the rubric defaults stored for dimensions the rater never
            chose (left out by default: a default nobody chose is not a judgement).

    Returns:
        a DataFrame of :class:`DailyMetric` rows, by day, rubric version and metric.
    """
    import numpy as np
    import pandas as pd

    from llmkit.stats import bootstrap_ci

    frame = store.ratings_frame(include_gold=False, include_untouched=include_untouched)
    columns = list(DailyMetric.__dataclass_fields__)
    if frame.empty:
        return pd.DataFrame(columns=columns)
    values = _item_values(store, frame)
    if days is not None:
        keep = sorted(values["day"].unique())[-days:]
        values = values[values["day"].isin(keep)]
    rows = []
    keys = ["day", "rubric", "rubric_version", "metric", "dimension"]
    for key, group in values.groupby(keys, sort=True):
        per_item = group.groupby("item_id")["value"].mean().to_numpy(dtype=np.float64)
        interval = bootstrap_ci(
            len(per_item),
            _mean_of(per_item),
            n_resamples=n_resamples,
            confidence=confidence,
            seed=seed,
        )
        day, rubric, version, metric, dimension = cast(tuple[Any, ...], key)
        rows.append(
            DailyMetric(
                day=str(day),
                rubric=str(rubric),
                rubric_version=int(version),
                metric=str(metric),
                dimension=str(dimension),
                estimate=interval.estimate,
                low=interval.low,
                high=interval.high,
                n_items=len(per_item),
                n_ratings=len(group),
            ).to_dict()
        )
    return pd.DataFrame(rows, columns=columns)


def plot_trend(
    metrics: pd.DataFrame,
    path: str | Path,
    *,
    title: str | None = None,
    scales: Mapping[str, tuple[float, float]] | None = None,
) -> Path:
    """A PNG of every metric over days, one panel per metric, with its interval band.

    Every estimate carries its interval as an error bar (so one day shows it too). A rate
    or share is drawn on 0 to 1; a mean on ``scales[metric]`` (its likert scale's lowest and
    highest point) when given, else on at least one point of scale around the data, never
    zoomed in until noise looks like a trend.

    Args:
        metrics: from :func:`daily_metrics`.
        path: the PNG to write (its folder must exist).
        title: the figure's title.
        scales: metric name -> (lowest, highest) value it can take.

    Raises:
        AnnotationError: matplotlib is missing (says how to install it), or no metrics.
    """
    import numpy as np

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ModuleNotFoundError:
        raise AnnotationError(PLOT_HINT) from None
    if metrics.empty:
        raise AnnotationError("no ratings yet: nothing to plot")
    names = sorted(metrics["metric"].unique())
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.2 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        part = metrics[metrics["metric"] == name]
        for (rubric, version), line in part.groupby(["rubric", "rubric_version"]):
            x = [str(d) for d in line["day"]]
            estimate = line["estimate"].to_numpy(dtype=float)
            below = (estimate - line["low"].to_numpy(dtype=float)).clip(min=0)
            above = (line["high"].to_numpy(dtype=float) - estimate).clip(min=0)
            bars = ax.errorbar(
                x, estimate, yerr=np.vstack([below, above]), marker="o", capsize=4,
                label=f"{rubric} v{version}",
            )  # fmt: skip
            if len(x) > 1:
                ax.fill_between(x, line["low"], line["high"], alpha=0.2, color=bars[0].get_color())
        ax.set_title(name)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        ax.set_ylim(*_y_range(name, part, scales or {}))
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(title or "annotation metrics per day (95% bootstrap intervals)")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _y_range(
    name: str, part: pd.DataFrame, scales: Mapping[str, tuple[float, float]]
) -> tuple[float, float]:
    if name.endswith(("_rate", "_a_share")):
        return (-0.02, 1.02)
    if name in scales:
        low, high = scales[name]
        pad = 0.05 * (high - low)
        return (low - pad, high + pad)
    low, high = float(part["low"].min()), float(part["high"].max())
    middle, half = (low + high) / 2, max((high - low) / 2 * 1.1, 0.5)
    return (middle - half, middle + half)


def export_ratings(store: Store, path: str | Path, *, fmt: str | None = None) -> int:
    """Write every rating (latest per rater and item) with rater ids to CSV or JSONL.

    Args:
        store: the annotation store.
        path: the file to write.
        fmt: ``csv`` or ``jsonl`` (default: from the file's suffix).

    Returns:
        the number of rows written.
    """
    out = Path(path)
    fmt = (fmt or out.suffix.lstrip(".")).lower()
    if fmt not in ("csv", "jsonl"):
        raise AnnotationError(f"export format {fmt or '(none)'!r}: use .csv or .jsonl")
    frame = store.ratings_frame(include_untouched=True)  # with the touched column
    ids = {u.name: u.id for u in store.users()}
    frame.insert(2, "rater_id", frame["rater"].map(ids).astype("int64"))
    frame["rated_at"] = frame["rated_at"].map(lambda ts: ts.isoformat())
    if fmt == "csv":
        csv_safe(frame).to_csv(out, index=False)
    else:
        with out.open("w", encoding="utf-8") as fh:
            for record in frame.to_dict("records"):
                clean = {
                    k: (None if isinstance(v, float) and math.isnan(v) else v)
                    for k, v in record.items()
                }
                fh.write(json.dumps(clean, ensure_ascii=False, default=str) + "\n")
    return len(frame)
