"""The engine under :mod:`llmkit.annotate._agreement`: ratings as integer codes, and each
statistic as a function of per-item weights (1 per item; a bootstrap resample's item
multiplicities), so a resample copies no data. Definitions are in ``_agreement``'s docstring.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from llmkit._exceptions import LLMKitError

__all__ = [
    "LEVELS",
    "AgreementDataError",
    "FloatArray",
    "IntArray",
    "Level",
    "Weights",
    "coerce_values",
]

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")
Weights = Literal["linear", "quadratic"] | None

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

# Above this many distinct values the ratio metric's value-by-value matrix is built in slices.
_RATIO_DENSE_MAX = 2048


class AgreementDataError(LLMKitError, ValueError):
    """Ratings that cannot be read or compared (bad row, duplicate rating, wrong level).

    Attributes:
        line: the 1-based line of the CSV input that is wrong, when there is one.
    """

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line


# --------------------------------------------------------------------------- values


def coerce_values(values: Iterable[Any]) -> pd.Series:
    """Values as numbers when every one parses as a finite number, else as stripped labels.

    Missing values (None, NaN, blank strings) stay missing (NaN for numbers, None for labels).

    >>> coerce_values(["4", " 5", None]).tolist()
    [4.0, 5.0, nan]
    >>> coerce_values(["4", "yes"]).tolist()
    ['4', 'yes']
    """
    if isinstance(values, pd.Series):
        series = values.reset_index(drop=True)
    elif isinstance(values, np.ndarray):
        series = pd.Series(values)
    else:
        series = pd.Series(list(values), dtype=object)
    if series.dtype.kind in "iuf":
        numbers = series.to_numpy(dtype=np.float64)
        if not np.isinf(numbers).any():
            return pd.Series(numbers, name="value")
    return _coerce_objects(series.astype(object).to_numpy(), strip=True)


def _coerce_objects(objects: npt.NDArray[Any], *, strip: bool) -> pd.Series:
    """:func:`coerce_values` over an object array; ``strip=False`` when known stripped."""
    absent = np.asarray(pd.isna(objects), dtype=bool)
    if strip:
        # One pass of str.strip (fast in a list comprehension), then one C parse of all.
        cells = ["" if gone else str(v).strip() for v, gone in zip(objects, absent, strict=True)]
        text = np.array(cells, dtype=object)
    else:
        text = np.where(absent, "", objects)
    present = ~absent & (text != "")
    try:  # float() of each value, in numpy's C loop; one that does not parse stops it
        parsed = np.where(present, text, "0").astype(np.float64)
    except (TypeError, ValueError):
        parsed = None
    if parsed is not None and np.isfinite(parsed[present]).all():
        return pd.Series(np.where(present, parsed, np.nan), name="value")
    labels = np.array(text, dtype=object)
    labels[~present] = None
    return pd.Series(labels, dtype=object, name="value")


# --------------------------------------------------------------------------- coded data


@dataclass(frozen=True)
class _Coded:
    """Ratings as integer codes: the one form every statistic works on."""

    item: IntArray  # per rating: item code 0..N-1
    rater: IntArray  # per rating: rater code 0..K-1
    code: IntArray  # per rating: value code 0..V-1 into `domain`
    domain: npt.NDArray[Any]  # values in order: sorted, or the categories given
    numeric: bool
    items: npt.NDArray[Any]  # item labels by code
    raters: npt.NDArray[Any]  # rater labels by code
    m: IntArray = field(repr=False)  # ratings per item
    sq: FloatArray = field(repr=False)  # per item: sum over values of (count of that value)²
    fixed: bool = False  # domain is the categories given (unused ones included)

    @property
    def n_items(self) -> int:
        return int(self.items.size)

    @property
    def n_values(self) -> int:
        return int(self.domain.size)

    def numbers(self) -> FloatArray:
        if not self.numeric:
            raise AgreementDataError("interval and ratio levels need numeric values, not labels")
        return np.asarray(self.domain, dtype=np.float64)[self.code]


def _encode(
    items: Sequence[Any] | npt.NDArray[Any] | pd.Series,
    raters: Sequence[Any] | npt.NDArray[Any] | pd.Series,
    values: pd.Series,
    *,
    lines: Sequence[int] | None = None,
    categories: Sequence[Any] | None = None,
) -> _Coded:
    """Code ratings; missing values dropped; a duplicate (item, rater) raises."""
    keep = values.notna().to_numpy()
    item_codes, item_labels = pd.factorize(pd.Series(items)[keep], sort=True)
    rater_codes, rater_labels = pd.factorize(pd.Series(raters)[keep], sort=True)
    kept = values[keep]
    numeric = kept.dtype.kind == "f" or (kept.size == 0 and values.dtype.kind == "f")
    domain: Any
    if categories is None:
        value_codes, domain = pd.factorize(kept, sort=True)
    else:
        rows = np.flatnonzero(keep)
        kept_lines = [lines[int(r)] for r in rows] if lines is not None else None
        value_codes, domain, numeric = _by_categories(kept, numeric, categories, kept_lines)
    item = np.asarray(item_codes, dtype=np.intp)
    rater = np.asarray(rater_codes, dtype=np.intp)
    code = np.asarray(value_codes, dtype=np.intp)
    n_items, n_raters = len(item_labels), len(rater_labels)
    if item.size:
        pair_key = item * n_raters + rater
        order = np.argsort(pair_key, kind="stable")
        dup = np.flatnonzero(pair_key[order][1:] == pair_key[order][:-1])
        if dup.size:
            first, second = order[dup[0]], order[dup[0] + 1]
            where = np.flatnonzero(keep)
            line = lines[int(where[second])] if lines is not None else None
            seen = f" (first at line {lines[int(where[first])]})" if lines is not None else ""
            raise AgreementDataError(
                f"item {item_labels[item[second]]!r} rated twice by rater "
                f"{rater_labels[rater[second]]!r}{seen}; one rating per item and rater",
                line=line,
            )
    m = np.bincount(item, minlength=n_items).astype(np.intp)
    # Per item, the sum over its values of (how many raters gave that value)²; the
    # (item, value) cells come from a sort, never a dense items x values table.
    n_dom = max(len(domain), 1)
    cells, counts = np.unique(item.astype(np.int64) * n_dom + code, return_counts=True)
    sq = np.bincount(cells // n_dom, weights=counts.astype(np.float64) ** 2, minlength=n_items)
    return _Coded(
        item=item,
        rater=rater,
        code=code,
        domain=np.asarray(domain, dtype=np.float64 if numeric else object),
        numeric=numeric,
        items=np.asarray(item_labels, dtype=object),
        raters=np.asarray(rater_labels, dtype=object),
        m=m,
        sq=sq.astype(np.float64),
        fixed=categories is not None,
    )


def _by_categories(
    kept: pd.Series, numeric: bool, categories: Sequence[Any], lines: Sequence[int] | None
) -> tuple[IntArray, npt.NDArray[Any], bool]:
    """Codes into the categories given: labels in the order given, numbers in numeric order."""
    domain = coerce_values(list(categories))
    if domain.isna().any() or domain.duplicated().any() or domain.empty:
        raise AgreementDataError(f"categories must be distinct and non-empty: {list(categories)}")
    dom_numeric = domain.dtype.kind == "f"
    if kept.size and numeric != dom_numeric:
        kinds = ("numbers", "labels")
        raise AgreementDataError(
            f"categories are {kinds[not dom_numeric]} but the values are {kinds[not numeric]}"
        )
    if dom_numeric:
        domain = domain.sort_values(ignore_index=True)
    codes = pd.Index(domain).get_indexer(kept)
    if (codes < 0).any():
        bad = int(np.flatnonzero(codes < 0)[0])
        raise AgreementDataError(
            f"value {kept.iloc[bad]!r} is not among the categories {list(domain)}",
            line=lines[bad] if lines is not None else None,
        )
    return np.asarray(codes, dtype=np.intp), domain.to_numpy(), dom_numeric


def _from_frame(
    frame: pd.DataFrame,
    item: str,
    rater: str,
    value: str,
    categories: Sequence[Any] | None = None,
) -> _Coded:
    missing = [c for c in (item, rater, value) if c not in frame.columns]
    if missing:
        raise AgreementDataError(
            f"ratings frame lacks column(s) {', '.join(missing)}; it has {list(frame.columns)}"
        )
    # A frame from read_ratings_csv carries each rating's CSV line, for error messages.
    has_lines = "line" in frame.columns and frame["line"].dtype.kind in "iu"
    lines = frame["line"].tolist() if has_lines else None
    return _encode(
        frame[item].to_numpy(),
        frame[rater].to_numpy(),
        coerce_values(frame[value].to_numpy()),
        categories=categories,
        lines=lines,
    )


def _ones(c: _Coded) -> FloatArray:
    return np.ones(c.n_items, dtype=np.float64)


def _nan_div(num: float, den: float) -> float:
    return num / den if den != 0 and math.isfinite(den) else math.nan


# --------------------------------------------------------------------------- statistics
# Each takes item weights `w` (1 per item; a bootstrap resample's multiplicities).


@dataclass(frozen=True)
class _RatioParts:
    """What ratio α needs that no resample changes: computed once per data set."""

    within: FloatArray  # per item: ratio distances over its rating pairs, over (m - 1)
    matrix: FloatArray | None  # value x value distances (None: too many values, sliced)

    @staticmethod
    def of(c: _Coded) -> _RatioParts:
        return _RatioParts(_ratio_within(c), _ratio_matrix(c))


def _alpha_w(c: _Coded, w: FloatArray, level: Level, ratio: _RatioParts | None = None) -> float:
    pair = c.m >= 2
    wu = w * pair
    wr = wu[c.item]
    n = float(wr.sum())
    if n < 2:
        return math.nan
    m = c.m.astype(np.float64)
    mm1 = np.where(pair, m - 1.0, 1.0)
    n_c: FloatArray = np.bincount(c.code, weights=wr, minlength=c.n_values).astype(np.float64)
    if level == "nominal":
        observed = float((wu * (m * m - c.sq) / mm1).sum())
        expected = n * n - float((n_c * n_c).sum())
        return 1.0 - _nan_div((n - 1.0) * observed, expected)
    if level == "ratio":
        parts = ratio if ratio is not None else _RatioParts.of(c)
        observed = float((wu * parts.within).sum())
        expected = _quad(n_c, parts.matrix, np.asarray(c.domain, dtype=np.float64))
        return 1.0 - _nan_div((n - 1.0) * observed, expected)
    # Krippendorff's ordinal distance between values c < k is (M_k - M_c)², M the mid-rank
    # of each value among the pairable values: ordinal α is interval α on mid-ranks.
    x = (np.cumsum(n_c) - n_c / 2.0)[c.code] if level == "ordinal" else c.numbers()
    # Sums of squared differences via deviations from means, which keeps precision.
    mean_i = np.bincount(c.item, weights=x, minlength=c.n_items) / np.maximum(m, 1.0)
    ss_i = np.bincount(c.item, weights=(x - mean_i[c.item]) ** 2, minlength=c.n_items)
    observed = float((wu * 2.0 * m * ss_i / mm1).sum())
    xbar = float((wr * x).sum()) / n
    expected = 2.0 * n * float((wr * (x - xbar) ** 2).sum())
    return 1.0 - _nan_div((n - 1.0) * observed, expected)


def _ratio_pairs(a: FloatArray, b: FloatArray) -> FloatArray:
    total = a + b
    diff = np.divide(a - b, total, out=np.zeros(np.broadcast(a, b).shape), where=total != 0)
    return np.asarray(diff * diff, dtype=np.float64)


def _ratio_within(c: _Coded) -> FloatArray:
    """Per item: ratio distances summed over ordered rating pairs, over (m - 1)."""
    x = c.numbers()
    order = np.argsort(c.item, kind="stable")
    start = np.concatenate([[0], np.cumsum(c.m)[:-1]]).astype(np.intp)
    out = np.zeros(c.n_items, dtype=np.float64)
    for size in np.unique(c.m[c.m >= 2]):
        units = np.flatnonzero(c.m == size)
        vals = x[order[start[units][:, None] + np.arange(size)]]
        d = _ratio_pairs(vals[:, :, None], vals[:, None, :])
        out[units] = d.sum(axis=(1, 2)) / (size - 1)
    return out


def _ratio_matrix(c: _Coded) -> FloatArray | None:
    if c.n_values > _RATIO_DENSE_MAX:
        return None
    y = np.asarray(c.domain, dtype=np.float64)
    return _ratio_pairs(y[:, None], y[None, :])


def _quad(n_c: FloatArray, d: FloatArray | None, y: FloatArray) -> float:
    if d is not None:
        return float(n_c @ d @ n_c)
    total = 0.0
    for lo in range(0, y.size, _RATIO_DENSE_MAX):
        block = _ratio_pairs(y[lo : lo + _RATIO_DENSE_MAX, None], y[None, :])
        total += float(n_c[lo : lo + _RATIO_DENSE_MAX] @ block @ n_c)
    return total


def _fleiss_w(c: _Coded, w: FloatArray) -> float:
    if c.n_items == 0:
        return math.nan
    top = int(c.m.max())
    chosen = c.m == top
    if top < 2 or int(chosen.sum()) < 2:
        return math.nan
    wu = w * chosen
    units = float(wu.sum())
    if units == 0:
        return math.nan
    n_c = np.bincount(c.code, weights=wu[c.item], minlength=c.n_values)
    p = n_c / (units * top)
    p_i = (c.sq - top) / (top * (top - 1.0))
    agree = float((wu * p_i).sum()) / units
    chance = float((p * p).sum())
    return _nan_div(agree - chance, 1.0 - chance)


def _pairwise_w(c: _Coded, w: FloatArray) -> float:
    pair = c.m >= 2
    wu = w * pair
    units = float(wu.sum())
    if units == 0:
        return math.nan
    m = c.m.astype(np.float64)
    p_i = (c.sq - m) / np.where(pair, m * (m - 1.0), 1.0)
    return float((wu * p_i).sum()) / units


def _ac1_w(c: _Coded, w: FloatArray) -> float:
    agree = _pairwise_w(c, w)
    if math.isnan(agree):
        return math.nan
    q = c.n_values
    if q < 2:
        return 1.0
    total = float(w.sum())
    m = c.m.astype(np.float64)
    pi = np.bincount(c.code, weights=(w / np.maximum(m, 1.0))[c.item], minlength=q) / total
    chance = float((pi * (1.0 - pi)).sum()) / (q - 1)
    return _nan_div(agree - chance, 1.0 - chance)


def _weight_matrix(k: int, weights: Weights) -> FloatArray:
    pos = np.arange(k, dtype=np.float64)
    if weights is None:
        return 1.0 - np.eye(k)
    if weights == "linear":
        return np.abs(pos[:, None] - pos[None, :])
    if weights == "quadratic":
        return np.asarray((pos[:, None] - pos[None, :]) ** 2, dtype=np.float64)
    raise AgreementDataError(f"weights must be None, 'linear' or 'quadratic', not {weights!r}")


def _kappa_codes(
    a: IntArray, b: IntArray, k: int, weights: Weights, pair_w: FloatArray | None = None
) -> float:
    if a.size == 0 or k == 0:
        return math.nan
    table = np.bincount(a * k + b, weights=pair_w, minlength=k * k).reshape(k, k)
    total = float(table.sum())
    if total == 0:
        return math.nan
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / total
    wm = _weight_matrix(k, weights)
    return 1.0 - _nan_div(float((wm * table).sum()), float((wm * expected).sum()))


@dataclass(frozen=True)
class _Pairs:
    """The items two raters both rated, coded over the categories either used there."""

    item: IntArray
    a: IntArray
    b: IntArray
    k: int

    @staticmethod
    def of(c: _Coded, first: int, second: int) -> _Pairs:
        by_a = np.full(c.n_items, -1, dtype=np.intp)
        by_b = np.full(c.n_items, -1, dtype=np.intp)
        sel_a, sel_b = c.rater == first, c.rater == second
        by_a[c.item[sel_a]] = c.code[sel_a]
        by_b[c.item[sel_b]] = c.code[sel_b]
        both = np.flatnonzero((by_a >= 0) & (by_b >= 0))
        if c.fixed:  # sklearn's labels=categories: every category has its position
            return _Pairs(both, by_a[both], by_b[both], c.n_values)
        used, inverse = np.unique(np.concatenate([by_a[both], by_b[both]]), return_inverse=True)
        inverse = inverse.astype(np.intp)
        return _Pairs(both, inverse[: both.size], inverse[both.size :], int(used.size))

    def kappa(self, w: FloatArray, weights: Weights) -> float:
        return _kappa_codes(self.a, self.b, self.k, weights, w[self.item])
