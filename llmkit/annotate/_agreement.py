"""Inter-rater agreement: Cohen's κ, Fleiss' κ, Krippendorff's α, Gwet's AC1, percent agreement.

Every statistic takes ratings in *long* form (one row per item, rater and value) and is
computed with numpy over integer codes, so 100,000 ratings take milliseconds. Each equals
its reference package on the same data (tested to 1e-9): ``krippendorff.alpha``,
``sklearn.metrics.cohen_kappa_score``, ``statsmodels.stats.inter_rater.fleiss_kappa`` and
``irrCAC.raw.CAC(...).gwet()``.

Definitions, stated once:

- **Values** are numbers when every value parses as a finite number, labels (stripped
  strings) otherwise (:func:`coerce_values`). Missing values (None, NaN, empty string) are
  ratings that were not made. Labels are ordered by their sort order wherever an order is
  needed (weighted κ, ordinal α), as the reference packages order them; give numbers when
  the order matters. Interval and ratio α need numbers.
- **Categories** (``categories=``, the rubric's scale) fix the value domain: labels take
  the order given, a value outside it raises, and unused categories count where a
  definition counts categories (AC1's chance agreement, Cohen's weights: sklearn's
  ``labels=``, irrCAC's ``categories=``). Without them, the domain is the values observed.
- An (item, rater) pair rated twice is an error (:class:`AgreementDataError`), never a
  silent average.
- **Krippendorff's α** uses every item with two or more ratings (an item rated once has no
  pair to compare). Ordinal α uses Krippendorff's rank metric over the pairable values.
- **Fleiss' κ** uses the items holding the largest number of ratings any item holds (the
  raters need not be the same people); it needs two such items and two ratings each.
- **Cohen's κ** compares two raters over the items both rated, over the categories either
  used (sklearn's ``labels=None``); linear and quadratic weights are distances between
  category *positions* in that order, as in sklearn.
- **Gwet's AC1** follows Gwet (2014) for missing ratings: agreement over items with two or
  more ratings, category propensities over every rated item, chance agreement over the
  categories observed. With one category only, AC1 is 1 (irrCAC's limit).
- **Percent agreement** is, per item with two or more ratings, the share of agreeing rater
  pairs, averaged over those items.
- **Counts**: ``n_items`` counts every item with at least one rating (an item rated once
  counts, though it enters no pairwise statistic); ``n_raters`` every rater with one.
- A statistic that is undefined on the data (no pair, one category only, no variation)
  is ``NaN`` here and ``None`` in :meth:`AgreementSummary.to_dict`; never an exception.
  So κ and α are undefined, not 1, when every rating is the same value.
- Cost: one sort of the ratings, then O(ratings) per statistic; ratio α with more than
  2,048 distinct values adds O(values²) for its expected disagreement.

Confidence intervals are seeded percentile bootstraps from :func:`llmkit.stats.bootstrap_ci`
that resample *items* with all their ratings (clusters). A resample enters each statistic as
a vector of item multiplicities, so no data is copied per replicate.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from llmkit.annotate._agreement_core import (
    LEVELS,
    AgreementDataError,
    FloatArray,
    IntArray,
    Level,
    Weights,
    _ac1_w,
    _alpha_w,
    _Coded,
    _encode,
    _fleiss_w,
    _from_frame,
    _kappa_codes,
    _ones,
    _Pairs,
    _pairwise_w,
    _RatioParts,
    coerce_values,
)
from llmkit.annotate._agreement_csv import read_ratings_csv
from llmkit.stats import DEFAULT_RESAMPLES, Interval, bootstrap_ci

__all__ = [
    "LEVELS",
    "AgreementDataError",
    "AgreementSummary",
    "Level",
    "agreement_by",
    "agreement_summary",
    "coerce_values",
    "cohen_kappa",
    "consensus_agreement",
    "fleiss_kappa",
    "gwet_ac1",
    "krippendorff_alpha",
    "pairwise_agreement",
    "percent_agreement",
    "read_ratings_csv",
]


# --------------------------------------------------------------------------- public API


def cohen_kappa(
    a: Sequence[Any] | npt.NDArray[Any] | pd.Series,
    b: Sequence[Any] | npt.NDArray[Any] | pd.Series,
    *,
    weights: Weights = None,
    labels: Sequence[Any] | None = None,
) -> float:
    """Cohen's κ between two aligned sequences of ratings (sklearn's ``cohen_kappa_score``).

    Pairs where either side is missing are dropped. Values are coerced together by
    :func:`coerce_values`, so ``"4"`` and ``4`` agree. ``labels`` fixes the categories and
    their order (for weights); a value outside it raises.

    Returns:
        κ, or NaN when undefined (no pairs, or both raters used one same category).

    >>> cohen_kappa([1, 2, 3, 1], [1, 2, 3, 2])
    0.6363636363636364
    """
    left = a.reset_index(drop=True) if isinstance(a, pd.Series) else pd.Series(a)
    right = b.reset_index(drop=True) if isinstance(b, pd.Series) else pd.Series(b)
    if len(left) != len(right):
        raise AgreementDataError(f"cohen_kappa needs aligned ratings: {len(left)} vs {len(right)}")
    both = coerce_values(pd.concat([left, right], ignore_index=True))
    if labels is not None:
        domain = coerce_values(list(labels))
        if both.dtype != domain.dtype and both.notna().any():
            raise AgreementDataError("labels and ratings differ in kind (numbers vs labels)")
        both = both.astype(domain.dtype)
    va, vb = both.iloc[: len(left)].reset_index(drop=True), both.iloc[len(left) :]
    vb = vb.reset_index(drop=True)
    keep = (va.notna() & vb.notna()).to_numpy()
    pa, pb = va[keep], vb[keep]
    if labels is None:
        codes, uniques = pd.factorize(pd.concat([pa, pb], ignore_index=True), sort=True)
        k = len(uniques)
    else:
        index = pd.Index(domain.dropna())
        codes = index.get_indexer(pd.concat([pa, pb], ignore_index=True))
        if (codes < 0).any():
            bad = pd.concat([pa, pb], ignore_index=True)[codes < 0].iloc[0]
            raise AgreementDataError(f"rating {bad!r} is not among the labels given")
        k = len(index)
    codes = np.asarray(codes, dtype=np.intp)
    return _kappa_codes(codes[: pa.size], codes[pa.size :], k, weights)


def krippendorff_alpha(
    frame: pd.DataFrame,
    level: Level = "nominal",
    *,
    item: str = "item",
    rater: str = "rater",
    value: str = "value",
    categories: Sequence[Any] | None = None,
) -> float:
    """Krippendorff's α at ``level`` over a long ratings frame; NaN when undefined."""
    c = _from_frame(frame, item, rater, value, categories)
    return _alpha_w(c, _ones(c), _check_level(level), None)


def fleiss_kappa(
    frame: pd.DataFrame,
    *,
    item: str = "item",
    rater: str = "rater",
    value: str = "value",
    categories: Sequence[Any] | None = None,
) -> float:
    """Fleiss' κ over the items with the most ratings (see module docstring); NaN if undefined."""
    c = _from_frame(frame, item, rater, value, categories)
    return _fleiss_w(c, _ones(c))


def gwet_ac1(
    frame: pd.DataFrame,
    *,
    item: str = "item",
    rater: str = "rater",
    value: str = "value",
    categories: Sequence[Any] | None = None,
) -> float:
    """Gwet's AC1 (missing ratings allowed); NaN when no item has two ratings."""
    c = _from_frame(frame, item, rater, value, categories)
    return _ac1_w(c, _ones(c))


def percent_agreement(
    frame: pd.DataFrame,
    *,
    item: str = "item",
    rater: str = "rater",
    value: str = "value",
    categories: Sequence[Any] | None = None,
) -> float:
    """Mean over items with two or more ratings of the share of agreeing rater pairs."""
    c = _from_frame(frame, item, rater, value, categories)
    return _pairwise_w(c, _ones(c))


def _check_level(level: str) -> Level:
    if level not in LEVELS:
        raise AgreementDataError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    return level


def _clean(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


STATISTICS: tuple[str, ...] = (
    "krippendorff_alpha",
    "fleiss_kappa",
    "cohen_kappa",
    "cohen_kappa_linear",
    "cohen_kappa_quadratic",
    "gwet_ac1",
    "percent_agreement",
)


@dataclass(frozen=True)
class AgreementSummary:
    """Every agreement statistic of one set of ratings (NaN where undefined).

    Attributes:
        level: the level of measurement Krippendorff's α used.
        krippendorff_alpha, fleiss_kappa, gwet_ac1, percent_agreement: see module docstring.
        cohen_kappa, cohen_kappa_linear, cohen_kappa_quadratic: only with exactly two raters.
        n_items: items with at least one rating; n_raters: raters with at least one rating.
        n_ratings: ratings counted; n_pairable_items: items with two or more ratings.
        numeric: whether the values were numbers (else labels).
        intervals: bootstrap intervals by statistic name (empty unless asked for).
    """

    level: Level
    krippendorff_alpha: float
    fleiss_kappa: float
    cohen_kappa: float
    cohen_kappa_linear: float
    cohen_kappa_quadratic: float
    gwet_ac1: float
    percent_agreement: float
    n_items: int
    n_raters: int
    n_ratings: int
    n_pairable_items: int
    numeric: bool
    intervals: dict[str, Interval] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The CLI's JSON object: NaN becomes None."""
        out: dict[str, Any] = {name: _clean(getattr(self, name)) for name in STATISTICS}
        out.update(
            level=self.level,
            n_items=self.n_items,
            n_raters=self.n_raters,
            n_ratings=self.n_ratings,
            n_pairable_items=self.n_pairable_items,
            values="numbers" if self.numeric else "labels",
        )
        if self.intervals:
            out["confidence_intervals"] = {
                name: {k: _clean(v) if isinstance(v, float) else v for k, v in iv.to_dict().items()}
                for name, iv in self.intervals.items()
            }
        return out


def _statistic_functions(c: _Coded, level: Level) -> dict[str, Callable[[FloatArray], float]]:
    ratio = _RatioParts.of(c) if level == "ratio" else None
    if level in ("interval", "ratio"):
        c.numbers()  # raise now on labels, not inside a bootstrap
    funcs: dict[str, Callable[[FloatArray], float]] = {
        "krippendorff_alpha": lambda w: _alpha_w(c, w, level, ratio),
        "fleiss_kappa": lambda w: _fleiss_w(c, w),
        "gwet_ac1": lambda w: _ac1_w(c, w),
        "percent_agreement": lambda w: _pairwise_w(c, w),
    }
    if c.raters.size == 2:
        pairs = _Pairs.of(c, 0, 1)
        funcs["cohen_kappa"] = lambda w: pairs.kappa(w, None)
        funcs["cohen_kappa_linear"] = lambda w: pairs.kappa(w, "linear")
        funcs["cohen_kappa_quadratic"] = lambda w: pairs.kappa(w, "quadratic")
    return funcs


def _intervals(
    n_items: int,
    funcs: dict[str, Callable[[FloatArray], float]],
    *,
    n_resamples: int,
    confidence: float,
    seed: int,
) -> dict[str, Interval]:
    if n_items == 0:
        return {}

    def over_items(f: Callable[[FloatArray], float]) -> Callable[[IntArray], float]:
        return lambda idx: f(np.bincount(idx, minlength=n_items).astype(np.float64))

    return {
        name: bootstrap_ci(
            n_items, over_items(f), n_resamples=n_resamples, confidence=confidence, seed=seed
        )
        for name, f in funcs.items()
    }


def _summary(
    c: _Coded,
    level: Level,
    *,
    ci: bool,
    n_resamples: int,
    confidence: float,
    seed: int,
) -> AgreementSummary:
    funcs = _statistic_functions(c, level)
    ones = _ones(c)
    values = {name: funcs[name](ones) if name in funcs else math.nan for name in STATISTICS}
    intervals = (
        _intervals(c.n_items, funcs, n_resamples=n_resamples, confidence=confidence, seed=seed)
        if ci
        else {}
    )
    return AgreementSummary(
        level=level,
        n_items=c.n_items,
        n_raters=int(c.raters.size),
        n_ratings=int(c.item.size),
        n_pairable_items=int((c.m >= 2).sum()),
        numeric=c.numeric,
        intervals=intervals,
        **values,
    )


def agreement_summary(
    frame: pd.DataFrame,
    *,
    level: Level = "nominal",
    item: str = "item",
    rater: str = "rater",
    value: str = "value",
    categories: Sequence[Any] | None = None,
    ci: bool = False,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> AgreementSummary:
    """All agreement statistics of one long ratings frame, with bootstrap intervals if ``ci``.

    Args:
        frame: one row per rating; ``item``, ``rater`` and ``value`` name its columns.
        level: Krippendorff's α level of measurement.
        categories: the scale, in order (see module docstring); None: values observed.
        ci: add a bootstrap interval per statistic (items resampled with their ratings).
        n_resamples, confidence, seed: of the bootstrap.

    Raises:
        AgreementDataError: a column is missing, an (item, rater) pair is rated twice, or
            ``level`` is interval/ratio while the values are labels.
    """
    c = _from_frame(frame, item, rater, value, categories)
    return _summary(
        c,
        _check_level(level),
        ci=ci,
        n_resamples=n_resamples,
        confidence=confidence,
        seed=seed,
    )


def _groups(
    frame: pd.DataFrame, by: Sequence[str]
) -> tuple[list[str], Iterable[tuple[tuple[Any, ...], pd.DataFrame]]]:
    keys = [k for k in by if k in frame.columns]
    if not keys:
        return keys, [((), frame)]
    grouped = frame.groupby(keys, sort=True, dropna=False)
    return keys, (((k if isinstance(k, tuple) else (k,)), g) for k, g in grouped)


def _interval_columns(row: dict[str, Any], name: str, iv: Interval | None) -> None:
    row[f"{name}_low"] = iv.low if iv is not None else math.nan
    row[f"{name}_high"] = iv.high if iv is not None else math.nan


def agreement_by(
    frame: pd.DataFrame,
    *,
    by: Sequence[str] = ("dimension", "rubric_version"),
    level: Level = "nominal",
    item: str = "item",
    rater: str = "rater",
    value: str = "value",
    categories: Sequence[Any] | None = None,
    ci: bool = True,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """One row of every statistic (and its interval) per group of ``by`` columns present.

    Columns: the group keys, ``n_items``, ``n_raters``, ``n_ratings``, then each statistic
    with ``_low`` and ``_high`` bounds (NaN without ``ci``). Items are resampled per group.
    """
    lvl = _check_level(level)
    keys, groups = _groups(frame, by)
    rows: list[dict[str, Any]] = []
    for key, group in groups:
        s = _summary(
            _from_frame(group, item, rater, value, categories),
            lvl,
            ci=ci,
            n_resamples=n_resamples,
            confidence=confidence,
            seed=seed,
        )
        row: dict[str, Any] = dict(zip(keys, key, strict=True))
        row.update(n_items=s.n_items, n_raters=s.n_raters, n_ratings=s.n_ratings)
        for name in STATISTICS:
            row[name] = getattr(s, name)
            _interval_columns(row, name, s.intervals.get(name))
        rows.append(row)
    columns = [*keys, "n_items", "n_raters", "n_ratings"]
    columns += [f"{n}{s}" for n in STATISTICS for s in ("", "_low", "_high")]
    return pd.DataFrame(rows, columns=columns)


_PAIR_STATS = (
    "percent_agreement",
    "cohen_kappa",
    "cohen_kappa_linear",
    "cohen_kappa_quadratic",
    "krippendorff_alpha",
)


def pairwise_agreement(
    frame: pd.DataFrame,
    *,
    by: Sequence[str] = ("dimension", "rubric_version"),
    level: Level = "nominal",
    item: str = "item",
    rater: str = "rater",
    value: str = "value",
    categories: Sequence[Any] | None = None,
    ci: bool = True,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Agreement of every pair of raters over the items both rated, per group of ``by``.

    One row per (group, ``rater_a`` < ``rater_b``) that share at least one item: ``n_items``
    shared, percent agreement, Cohen's κ (unweighted, linear, quadratic), Krippendorff's α
    at ``level`` on the two raters' shared items, each with ``_low``/``_high`` bounds from
    resampling the shared items. Pairs that share no item are left out.
    """
    lvl = _check_level(level)
    keys, groups = _groups(frame, by)
    rows: list[dict[str, Any]] = []
    for key, group in groups:
        c = _from_frame(group, item, rater, value, categories)
        for first, second in itertools.combinations(range(c.raters.size), 2):
            pairs = _Pairs.of(c, first, second)
            if pairs.item.size == 0:
                continue
            sub = _two_rater_subset(c, first, second, pairs.item)
            funcs = _pair_functions(pairs, sub, lvl)
            row: dict[str, Any] = dict(zip(keys, key, strict=True))
            row.update(
                rater_a=c.raters[first], rater_b=c.raters[second], n_items=int(pairs.item.size)
            )
            ones = np.ones(pairs.item.size)
            intervals = (
                _intervals(
                    pairs.item.size,
                    funcs,
                    n_resamples=n_resamples,
                    confidence=confidence,
                    seed=seed,
                )
                if ci
                else {}
            )
            for name in _PAIR_STATS:
                row[name] = funcs[name](ones)
                _interval_columns(row, name, intervals.get(name))
            rows.append(row)
    columns = [*keys, "rater_a", "rater_b", "n_items"]
    columns += [f"{n}{s}" for n in _PAIR_STATS for s in ("", "_low", "_high")]
    return pd.DataFrame(rows, columns=columns)


def _two_rater_subset(c: _Coded, first: int, second: int, shared: IntArray) -> _Coded:
    """The two raters' ratings of their shared items, re-coded with items 0..len(shared)-1."""
    pos = np.full(c.n_items, -1, dtype=np.intp)
    pos[shared] = np.arange(shared.size)
    sel = ((c.rater == first) | (c.rater == second)) & (pos[c.item] >= 0)
    values = pd.Series(c.domain[c.code[sel]], dtype=np.float64 if c.numeric else object)
    fixed = list(c.domain) if c.fixed else None
    return _encode(pos[c.item[sel]], c.rater[sel], values, categories=fixed)


def _pair_functions(
    pairs: _Pairs, sub: _Coded, level: Level
) -> dict[str, Callable[[FloatArray], float]]:
    # `sub` codes items by their position in `pairs.item`, so one weight vector fits both.
    ratio = _RatioParts.of(sub) if level == "ratio" else None
    local = _Pairs(np.arange(pairs.item.size), pairs.a, pairs.b, pairs.k)
    return {
        "percent_agreement": lambda w: _pairwise_w(sub, w),
        "cohen_kappa": lambda w: local.kappa(w, None),
        "cohen_kappa_linear": lambda w: local.kappa(w, "linear"),
        "cohen_kappa_quadratic": lambda w: local.kappa(w, "quadratic"),
        "krippendorff_alpha": lambda w: _alpha_w(sub, w, level, ratio),
    }


# --------------------------------------------------------------------------- consensus


def _leave_one_out_mode(c: _Coded) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Per rating: the unique most frequent value code among the item's *other* ratings."""
    if c.item.size == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=bool)
    v = max(c.n_values, 1)
    keys, counts = np.unique(c.item * v + c.code, return_counts=True)
    cell_item, cell_code = keys // v, keys % v
    n_cells = np.bincount(cell_item, minlength=c.n_items)
    cell_start = np.concatenate([[0], np.cumsum(n_cells)[:-1]]).astype(np.intp)
    rep = n_cells[c.item]
    rating = np.repeat(np.arange(c.item.size), rep)
    seg_start = np.concatenate([[0], np.cumsum(rep)[:-1]]).astype(np.intp)
    within = np.arange(rating.size) - np.repeat(seg_start, rep)
    cell = cell_start[c.item][rating] + within
    adjusted = counts[cell] - (cell_code[cell] == c.code[rating])
    top = np.maximum.reduceat(adjusted, seg_start) if rating.size else adjusted
    at_top = adjusted == top[rating]
    n_top = np.add.reduceat(at_top.astype(np.intp), seg_start) if rating.size else adjusted
    big = np.iinfo(np.intp).max
    mode = np.minimum.reduceat(np.where(at_top, cell_code[cell], big), seg_start)
    defined = (c.m[c.item] >= 2) & (n_top == 1) & (top > 0)
    return np.where(defined, mode, -1).astype(np.intp), defined


def _leave_one_out_center(c: _Coded, x: FloatArray, median: bool) -> tuple[FloatArray, Any]:
    """Per rating: the median (or mean) of the item's other ratings; NaN where undefined.

    A median of an even number of others that falls between two different values is
    undefined (no single consensus value), like a tie under the mode.
    """
    out = np.full(x.size, math.nan)
    if not median:
        total = np.bincount(c.item, weights=x, minlength=c.n_items)[c.item]
        others = c.m[c.item] - 1
        np.divide(total - x, others, out=out, where=others > 0)
        return out, np.isfinite(out)
    order = np.argsort(c.item, kind="stable")
    start = np.concatenate([[0], np.cumsum(c.m)[:-1]]).astype(np.intp)
    for size in np.unique(c.m[c.m >= 2]):
        units = np.flatnonzero(c.m == size)
        rows = order[start[units][:, None] + np.arange(size)]  # rating ids, (k, size)
        drop = np.array([[t for t in range(size) if t != j] for j in range(size)])
        others = np.sort(x[rows][:, drop], axis=2)  # (k, size, size - 1)
        lo, hi = others[..., (size - 2) // 2], others[..., (size - 1) // 2]
        out[rows] = np.where(lo == hi, lo, math.nan)
    return out, np.isfinite(out)


_CONSENSUS_STATS = ("agreement", "cohen_kappa", "mean_abs_diff")


def consensus_agreement(
    frame: pd.DataFrame,
    *,
    by: Sequence[str] = ("dimension", "rubric_version"),
    level: Level = "nominal",
    item: str = "item",
    rater: str = "rater",
    value: str = "value",
    categories: Sequence[Any] | None = None,
    ci: bool = True,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Agreement of each rater with the consensus of the *other* raters, per group of ``by``.

    The consensus of an item, for one of its ratings, leaves that rating out: the unique
    most frequent value (``nominal``), the median (``ordinal``; undefined when it falls
    between two values) or the mean (``interval``/``ratio``) of the other ratings. Items
    rated once, and ties, have no consensus and are left out of that rater's row.

    One row per (group, rater): ``n_items`` compared, ``agreement`` (share equal to the
    consensus), ``cohen_kappa`` against the consensus (nominal/ordinal; NaN otherwise),
    ``mean_abs_diff`` (numbers only), each with ``_low``/``_high`` bootstrap bounds over the
    rater's items.
    """
    lvl = _check_level(level)
    keys, groups = _groups(frame, by)
    rows: list[dict[str, Any]] = []
    for key, group in groups:
        c = _from_frame(group, item, rater, value, categories)
        if lvl == "nominal":
            cons, defined = _leave_one_out_mode(c)
            consensus = cons.astype(np.float64)
            own = c.code.astype(np.float64)
        elif lvl == "ordinal":
            consensus, defined = _leave_one_out_center(c, c.code.astype(np.float64), True)
            own = c.code.astype(np.float64)
        else:
            own = c.numbers()
            consensus, defined = _leave_one_out_center(c, own, False)
        values = np.asarray(c.domain, dtype=np.float64) if c.numeric else None
        for r in range(c.raters.size):
            sel = np.flatnonzero((c.rater == r) & defined)
            a, b = own[sel], consensus[sel]
            if values is not None and lvl in ("nominal", "ordinal"):
                va, vb = values[a.astype(np.intp)], values[b.astype(np.intp)]
            else:
                va, vb = a, b
            funcs = _consensus_functions(a, b, va, vb, lvl, numeric=values is not None)
            row: dict[str, Any] = dict(zip(keys, key, strict=True))
            row.update(rater=c.raters[r], n_items=int(sel.size))
            intervals = (
                {
                    name: bootstrap_ci(
                        sel.size,
                        f,
                        n_resamples=n_resamples,
                        confidence=confidence,
                        seed=seed,
                    )
                    for name, f in funcs.items()
                }
                if ci and sel.size
                else {}
            )
            for name in _CONSENSUS_STATS:
                row[name] = funcs[name](np.arange(sel.size))
                _interval_columns(row, name, intervals.get(name))
            rows.append(row)
    columns = [*keys, "rater", "n_items"]
    columns += [f"{n}{s}" for n in _CONSENSUS_STATS for s in ("", "_low", "_high")]
    return pd.DataFrame(rows, columns=columns)


def _consensus_functions(
    a: FloatArray, b: FloatArray, va: FloatArray, vb: FloatArray, level: Level, *, numeric: bool
) -> dict[str, Callable[[IntArray], float]]:
    def agreement(idx: IntArray) -> float:
        return float((a[idx] == b[idx]).mean()) if idx.size else math.nan

    def kappa(idx: IntArray) -> float:
        if level not in ("nominal", "ordinal") or idx.size == 0:
            return math.nan
        used, inverse = np.unique(np.concatenate([a[idx], b[idx]]), return_inverse=True)
        inverse = inverse.astype(np.intp)
        return _kappa_codes(inverse[: idx.size], inverse[idx.size :], int(used.size), None)

    def mean_abs_diff(idx: IntArray) -> float:
        if not numeric or idx.size == 0:
            return math.nan
        return float(np.abs(va[idx] - vb[idx]).mean())

    return {"agreement": agreement, "cohen_kappa": kappa, "mean_abs_diff": mean_abs_diff}
