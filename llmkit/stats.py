"""The statistics shared by bench compare, eval baselines and annotation reports.

Written once, seeded, and tested against scipy / statsmodels (test-only dependencies):

- :func:`percentile` / :func:`percentiles`: numpy's linear interpolation between closest
  ranks (the convention of vLLM's ``bench serve``), plus :func:`percentile_supported`, which
  says whether a sample holds enough values beyond a percentile to estimate it at all.
- :func:`bootstrap_ci`: a seeded percentile bootstrap of any statistic over resampled
  *units* (requests, items, cases), so clustered data (several ratings per item) resample
  whole clusters.
- :func:`bootstrap_diff_ci`: the change of a statistic between two independent samples
  (bench runs), each resampled on its own.
- :func:`bootstrap_percentile_diff_ci`: the same for a percentile or the mean, vectorised
  (bench compare judges every metric of every level with it).
- :func:`bootstrap_pooled_diff_ci`: the same for values pooled over clusters (tokens of
  requests), resampling whole clusters.
- :func:`paired_bootstrap_ci`: the mean paired difference over the same cases (eval
  baselines).
- :func:`mcnemar`: the exact (binomial) or chi-square McNemar test for paired pass/fail.
- :func:`paired_permutation_test`: the exact sign-flip permutation test of paired
  differences (Monte Carlo, seeded, only beyond ``exact_max`` non-zero differences), and
  :func:`min_attainable_pvalue` / :func:`pairs_needed`, which say whether any exact paired
  test can reach a given alpha with the pairs there are.

Every function takes ``seed`` and draws from its own ``numpy.random.Generator``, so one
verdict is reproducible run after run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

try:
    import numpy as np
    import numpy.typing as npt
except ImportError:  # the base install: one line saying what to install
    from llmkit.extras import MissingExtraError

    raise MissingExtraError("llmkit.stats", ["eval"]) from None

from llmkit._exceptions import StatisticsError

__all__ = [
    "DEFAULT_RESAMPLES",
    "HypothesisTest",
    "Interval",
    "McNemarResult",
    "PairedTestResult",
    "StatisticsError",
    "benjamini_hochberg",
    "bootstrap_ci",
    "bootstrap_diff_ci",
    "bootstrap_percentile_diff_ci",
    "bootstrap_pooled_diff_ci",
    "chi2_sf",
    "chi_square_contingency",
    "fisher_exact_greater",
    "jensen_shannon",
    "ks_2samp",
    "mann_whitney_u",
    "mcnemar",
    "min_attainable_pvalue",
    "paired_bootstrap_ci",
    "paired_permutation_test",
    "pairs_needed",
    "percentile",
    "percentile_supported",
    "percentiles",
    "two_proportion_z",
    "wasserstein",
]

DEFAULT_RESAMPLES = 2000
FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided confidence interval.

    Attributes:
        estimate: the statistic on the data as observed.
        low: lower bound of the interval.
        high: upper bound of the interval.
        confidence: the interval's level, e.g. 0.95.
        n: how many units the estimate rests on.
    """

    estimate: float
    low: float
    high: float
    confidence: float
    n: int

    def excludes(self, value: float = 0.0) -> bool:
        """Whether ``value`` lies outside the interval (a "significant" change from it)."""
        return bool(value < self.low or value > self.high)

    def to_dict(self) -> dict[str, Any]:
        """The interval as plain JSON-ready data."""
        return {
            "estimate": self.estimate,
            "low": self.low,
            "high": self.high,
            "confidence": self.confidence,
            "n": self.n,
        }


def percentile(values: Sequence[float] | FloatArray, q: float) -> float:
    """The ``q``-th percentile (0–100), linearly interpolated (numpy's default).

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.5
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        raise StatisticsError("percentile of no values")
    return float(np.percentile(arr, q))


def percentiles(values: Sequence[float] | FloatArray, qs: Sequence[float]) -> list[float]:
    """Several percentiles of one sample in a single sort."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        raise StatisticsError("percentile of no values")
    return [float(v) for v in np.percentile(arr, list(qs))]


def percentile_supported(n: int, q: float, *, min_tail: int = 5) -> bool:
    """Whether ``n`` samples hold at least ``min_tail`` values beyond the ``q``-th percentile.

    p99 of 64 samples rests on less than one value above it: it is the maximum with noise,
    and gating on it fails identical runs. With the default of 5, p99 needs 500 samples,
    p95 100 and p50 10.

    >>> percentile_supported(64, 99), percentile_supported(500, 99)
    (False, True)
    """
    if not 0 <= q <= 100:
        raise StatisticsError(f"percentile {q} outside 0..100")
    tail = min(q, 100.0 - q) / 100.0
    return n * tail + 1e-9 >= min_tail if tail > 0 else n >= min_tail


def _interval(estimate: float, replicates: FloatArray, confidence: float, n: int) -> Interval:
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return Interval(estimate, math.nan, math.nan, confidence, n)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(finite, [alpha, 1.0 - alpha])
    return Interval(estimate, float(low), float(high), confidence, n)


def _check(confidence: float, n_resamples: int) -> None:
    if not 0.0 < confidence < 1.0:
        raise StatisticsError(f"confidence must lie in (0, 1), not {confidence}")
    if n_resamples < 1:
        raise StatisticsError("n_resamples must be at least 1")


def bootstrap_ci(
    n_units: int,
    statistic: Callable[[IndexArray], float],
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Percentile bootstrap of ``statistic`` over ``n_units`` resampled with replacement.

    ``statistic`` receives an array of unit indices (``arange(n_units)`` for the estimate,
    a resample for each replicate) and returns a float; a NaN replicate (say, agreement on a
    resample with no variation) is left out of the interval. Resampling indices rather than
    values lets a caller resample clusters: items with all their ratings, cases with all
    their repeats.

    >>> data = np.array([1.0, 2.0, 3.0, 4.0])
    >>> ci = bootstrap_ci(len(data), lambda idx: float(data[idx].mean()), seed=1)
    >>> ci.estimate, ci.low <= 2.5 <= ci.high
    (2.5, True)
    """
    _check(confidence, n_resamples)
    if n_units < 1:
        raise StatisticsError("bootstrap of no units")
    estimate = float(statistic(np.arange(n_units)))
    rng = np.random.default_rng(seed)
    replicates = np.fromiter(
        (statistic(row) for row in _resample_rows(rng, n_units, n_resamples)),
        np.float64,
        n_resamples,
    )
    return _interval(estimate, replicates, confidence, n_units)


# Indices drawn per block: bounds memory (2,000 resamples of 30k items would be ~470 MB at
# once) without changing a seed's results, since numpy's stream is the same drawn in blocks.
_DRAW_BLOCK = 1 << 20


def _resample_rows(
    rng: np.random.Generator, n_units: int, n_resamples: int
) -> Iterator[IndexArray]:
    rows_per_block = max(1, _DRAW_BLOCK // n_units)
    left = n_resamples
    while left > 0:
        k = min(rows_per_block, left)
        yield from rng.integers(0, n_units, size=(k, n_units))
        left -= k


def _mean_stat(values: FloatArray) -> Callable[[IndexArray], float]:
    return lambda idx: float(values[idx].mean())


def bootstrap_diff_ci(
    before: Sequence[float] | FloatArray,
    after: Sequence[float] | FloatArray,
    statistic: Callable[[FloatArray], float] = lambda v: float(np.mean(v)),
    *,
    relative: bool = False,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Interval of ``statistic(after) - statistic(before)`` for two independent samples.

    Each sample is resampled on its own (bench runs share no requests). With
    ``relative=True`` the change is a fraction of the ``before`` value (0.1 = 10% higher).

    >>> a = [10.0] * 50
    >>> bootstrap_diff_ci(a, [11.0] * 50, relative=True).estimate
    0.1
    """
    _check(confidence, n_resamples)
    a = np.asarray(before, dtype=np.float64)
    b = np.asarray(after, dtype=np.float64)
    if a.size == 0 or b.size == 0:
        raise StatisticsError("bootstrap of an empty sample")

    def change(x: float, y: float) -> float:
        if not relative:
            return y - x
        if x == 0:
            return 0.0 if y == 0 else math.copysign(math.inf, y)
        return (y - x) / abs(x)

    estimate = change(statistic(a), statistic(b))
    rng = np.random.default_rng(seed)
    ia = rng.integers(0, a.size, size=(n_resamples, a.size))
    ib = rng.integers(0, b.size, size=(n_resamples, b.size))
    replicates = np.fromiter(
        (change(statistic(a[ra]), statistic(b[rb])) for ra, rb in zip(ia, ib, strict=True)),
        np.float64,
        n_resamples,
    )
    return _interval(estimate, replicates, confidence, min(a.size, b.size))


def _paired_differences(
    before: Sequence[float] | FloatArray, after: Sequence[float] | FloatArray
) -> FloatArray:
    a = np.asarray(before, dtype=np.float64)
    b = np.asarray(after, dtype=np.float64)
    if a.shape != b.shape:
        raise StatisticsError(f"paired samples differ in length: {a.size} and {b.size}")
    if a.size == 0:
        raise StatisticsError("a paired comparison of no pairs")
    return np.asarray(b - a, dtype=np.float64)


def paired_bootstrap_ci(
    before: Sequence[float] | FloatArray,
    after: Sequence[float] | FloatArray,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Interval of the mean paired difference ``after - before`` over the same cases.

    Cases are resampled as pairs, so what the two runs share (an easy case is easy for
    both) cancels out, which an unpaired comparison would count as noise.

    >>> paired_bootstrap_ci([1.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0]).estimate
    -0.25
    """
    diff = _paired_differences(before, after)
    return bootstrap_ci(
        diff.size,
        _mean_stat(diff),
        n_resamples=n_resamples,
        confidence=confidence,
        seed=seed,
    )


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's test on paired pass/fail outcomes.

    Attributes:
        statistic: the exact test's smaller discordant count, or the chi-square statistic.
        pvalue: two-sided p-value.
        lost: cases that passed before and fail now.
        gained: cases that failed before and pass now.
    """

    statistic: float
    pvalue: float
    lost: int
    gained: int


def mcnemar(
    lost: int, gained: int, *, exact: bool = True, correction: bool = True
) -> McNemarResult:
    """McNemar's test from the two discordant counts (as ``statsmodels``' ``mcnemar``).

    The exact version is a two-sided binomial test of ``min(lost, gained)`` out of
    ``lost + gained`` at p = 0.5; the asymptotic one is chi-square with one degree of
    freedom, with Edwards' continuity correction by default.

    >>> round(mcnemar(10, 1).pvalue, 6)
    0.011719
    """
    if lost < 0 or gained < 0:
        raise StatisticsError("discordant counts must be non-negative")
    n = lost + gained
    if exact:
        k = min(lost, gained)
        if n == 0:
            return McNemarResult(float(k), 1.0, lost, gained)
        # P(X <= k) for X ~ Binomial(n, 1/2), doubled and capped at 1.
        tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0**n
        return McNemarResult(float(k), min(1.0, 2.0 * tail), lost, gained)
    if n == 0:
        return McNemarResult(0.0, 1.0, lost, gained)
    stat = (abs(lost - gained) - (1.0 if correction else 0.0)) ** 2 / n
    # Survival function of chi-square with 1 dof: erfc(sqrt(x / 2)).
    return McNemarResult(stat, math.erfc(math.sqrt(stat / 2.0)), lost, gained)


def min_attainable_pvalue(changed: int) -> float:
    """The smallest two-sided p-value an exact paired test can give with ``changed`` pairs.

    Only pairs that differ (discordant pass/fail pairs, non-zero differences) carry
    information; the most extreme outcome (all of them one way) has probability
    ``2 / 2**changed`` under the null, for McNemar's exact test and the sign-flip test alike.

    >>> min_attainable_pvalue(5), min_attainable_pvalue(6)
    (0.0625, 0.03125)
    """
    if changed < 0:
        raise StatisticsError("a count of changed pairs is non-negative")
    return 1.0 if changed == 0 else min(1.0, 2.0 ** (1 - changed))


def pairs_needed(alpha: float) -> int:
    """The fewest changed pairs with which an exact paired test can be significant at ``alpha``.

    >>> pairs_needed(0.05), pairs_needed(0.01)
    (6, 8)
    """
    if not 0.0 < alpha < 1.0:
        raise StatisticsError(f"alpha must lie in (0, 1), not {alpha}")
    m = 1
    while min_attainable_pvalue(m) >= alpha:
        m += 1
    return m


@dataclass(frozen=True)
class PairedTestResult:
    """A sign-flip permutation test of paired differences ``after - before``.

    Attributes:
        statistic: the mean paired difference.
        pvalue: two-sided p-value.
        changed: pairs whose difference is not zero (the others carry no information).
        exact: whether every sign assignment was enumerated (else a seeded Monte Carlo).
    """

    statistic: float
    pvalue: float
    changed: int
    exact: bool


# Enumerating 2**20 sign assignments takes ~0.1 s; beyond that, sample them.
_EXACT_MAX = 20
_FLIP_BLOCK = 1 << 15


def paired_permutation_test(
    before: Sequence[float] | FloatArray,
    after: Sequence[float] | FloatArray,
    *,
    exact_max: int = _EXACT_MAX,
    n_resamples: int = 100_000,
    seed: int = 0,
) -> PairedTestResult:
    """Two-sided sign-flip permutation test of the mean paired difference.

    Under the null the sign of each difference is a fair coin. With at most ``exact_max``
    non-zero differences every assignment is enumerated (exact); beyond, ``n_resamples``
    seeded random ones are drawn and the p-value is ``(hits + 1) / (n_resamples + 1)``.
    The p-value is ``2 * min(P(T <= t), P(T >= t))``, capped at 1, with scipy's
    tolerance for ties, so it equals ``scipy.stats.permutation_test`` with
    ``permutation_type="samples"``.

    >>> paired_permutation_test([1.0] * 6, [0.5] * 6).pvalue
    0.03125
    """
    diff = _paired_differences(before, after)
    if not np.all(np.isfinite(diff)):
        raise StatisticsError("paired differences must be finite")
    mean = float(diff.mean())
    nz = diff[diff != 0]
    m = int(nz.size)
    if m == 0:
        return PairedTestResult(mean, 1.0, 0, True)
    observed = float(nz.sum())
    total = float(nz.sum())
    # scipy's tolerance: values within 100 ulps of the observed statistic count as ties
    gamma = abs(np.finfo(np.float64).eps * 100 * observed)
    le = ge = 0
    if m <= exact_max:
        n_assign = 1 << m
        shifts = np.arange(m, dtype=np.int64)
        for start in range(0, n_assign, _FLIP_BLOCK):
            masks = np.arange(start, min(start + _FLIP_BLOCK, n_assign), dtype=np.int64)
            flipped = ((masks[:, None] >> shifts) & 1).astype(np.float64)
            sums = total - 2.0 * (flipped @ nz)
            le += int(np.count_nonzero(sums <= observed + gamma))
            ge += int(np.count_nonzero(sums >= observed - gamma))
        p_less, p_greater = le / n_assign, ge / n_assign
        exact = True
    else:
        rng = np.random.default_rng(seed)
        left = n_resamples
        while left > 0:
            k = min(left, max(1, _DRAW_BLOCK // m))
            signs = rng.integers(0, 2, size=(k, m)).astype(np.float64) * 2.0 - 1.0
            sums = signs @ nz
            le += int(np.count_nonzero(sums <= observed + gamma))
            ge += int(np.count_nonzero(sums >= observed - gamma))
            left -= k
        p_less, p_greater = (le + 1) / (n_resamples + 1), (ge + 1) / (n_resamples + 1)
        exact = False
    return PairedTestResult(mean, min(1.0, 2.0 * min(p_less, p_greater)), m, exact)


def _change(x: FloatArray, y: FloatArray, relative: bool) -> FloatArray:
    """``y - x``, or relative to ``|x|`` (a change from 0 is 0 or ±inf)."""
    if not relative:
        return np.asarray(y - x, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (y - x) / np.abs(x)
    zero = x == 0
    out[zero] = np.where(y[zero] == 0, 0.0, np.copysign(np.inf, y[zero]))
    return np.asarray(out, dtype=np.float64)


def bootstrap_percentile_diff_ci(
    before: Sequence[float] | FloatArray,
    after: Sequence[float] | FloatArray,
    q: float | None,
    *,
    relative: bool = False,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """:func:`bootstrap_diff_ci` of the ``q``-th percentile (``None``: the mean), vectorised.

    The resamples are drawn in blocks and reduced along an axis with numpy, so thousands
    of resamples of thousands of requests take milliseconds, not seconds. With
    ``relative=True`` the change is a fraction of the ``before`` value.

    >>> ci = bootstrap_percentile_diff_ci([10.0] * 40, [12.0] * 40, 50, relative=True)
    >>> round(ci.estimate, 6), round(ci.low, 6), round(ci.high, 6)
    (0.2, 0.2, 0.2)
    """
    _check(confidence, n_resamples)
    a = np.asarray(before, dtype=np.float64)
    b = np.asarray(after, dtype=np.float64)
    if a.size == 0 or b.size == 0:
        raise StatisticsError("bootstrap of an empty sample")
    if q is not None and not 0 <= q <= 100:
        raise StatisticsError(f"percentile {q} outside 0..100")

    def stat(x: FloatArray) -> FloatArray:
        if q is None:
            return np.asarray(x.mean(axis=-1), dtype=np.float64)
        return np.asarray(np.percentile(x, q, axis=-1), dtype=np.float64)

    def change(x: FloatArray, y: FloatArray) -> FloatArray:
        return _change(x, y, relative)

    estimate = float(change(stat(a)[None], stat(b)[None])[0])
    rng = np.random.default_rng(seed)
    block = max(1, 2_000_000 // max(a.size, b.size))
    parts = []
    for start in range(0, n_resamples, block):
        k = min(block, n_resamples - start)
        ra = a[rng.integers(0, a.size, size=(k, a.size))]
        rb = b[rng.integers(0, b.size, size=(k, b.size))]
        parts.append(change(stat(ra), stat(rb)))
    return _interval(estimate, np.concatenate(parts), confidence, min(a.size, b.size))


class _Pooled:
    """One sample of clustered values, ready for many weighted resamples.

    A resample is the sorted pooled values, each repeated as often as its cluster was
    drawn. Its percentile is found by a vectorised binary search over the global sort
    order, counting the values at or below a rank in each cluster (``searchsorted`` on
    ``cluster * n + rank`` keys): time and memory grow with clusters × log(values), not
    with values × resamples. The result equals numpy's percentile of the pooled resample.
    """

    def __init__(self, clusters: Sequence[Sequence[float] | FloatArray]) -> None:
        arrays = [np.asarray(c, dtype=np.float64) for c in clusters]
        arrays = [c for c in arrays if c.size]
        if not arrays:
            raise StatisticsError("bootstrap of an empty sample")
        self.values = np.concatenate(arrays)
        cluster = np.repeat(np.arange(len(arrays)), [c.size for c in arrays])
        self.n, self.nc = int(self.values.size), len(arrays)
        order = np.argsort(self.values, kind="stable")
        self.sorted = self.values[order]
        self.keys = np.sort(cluster[order].astype(np.int64) * self.n + np.arange(self.n))
        self.base = np.arange(self.nc, dtype=np.int64) * self.n
        self.starts = np.searchsorted(self.keys, self.base)
        self.sizes = np.bincount(cluster, minlength=self.nc)
        self.sums = np.bincount(cluster, weights=self.values, minlength=self.nc)

    def _at_or_below(self, mult: Any, rank: Any) -> Any:
        counts = np.searchsorted(self.keys, self.base[None, :] + rank[:, None], side="right")
        return (mult * (counts - self.starts[None, :])).sum(axis=1)

    def _rank(self, mult: Any, position: Any) -> Any:
        """Sorted rank of the value at ``position`` of each pooled resample."""
        lo = np.zeros(mult.shape[0], dtype=np.int64)
        hi = np.full(mult.shape[0], self.n - 1, dtype=np.int64)
        while np.any(lo < hi):
            mid = (lo + hi) // 2
            right = self._at_or_below(mult, mid) <= position
            lo = np.where(right, mid + 1, lo)
            hi = np.where(right, hi, mid)
        return lo

    def statistic(self, picks: Any, q: float | None) -> FloatArray:
        """``q``-th percentile (``None``: mean) of each row's pooled resample of clusters."""
        k = picks.shape[0]
        flat = (picks + np.arange(k)[:, None] * self.nc).ravel()
        mult = np.bincount(flat, minlength=k * self.nc).reshape(k, self.nc)
        total = mult @ self.sizes
        if q is None:
            return np.asarray((mult @ self.sums) / total, dtype=np.float64)
        h = (total - 1) * q / 100.0
        lo = np.floor(h)
        j_lo = self._rank(mult, lo.astype(np.int64))
        j_hi = self._rank(mult, np.minimum(lo + 1, total - 1).astype(np.int64))
        low, high = self.sorted[j_lo], self.sorted[j_hi]
        return np.asarray(low + (h - lo) * (high - low), dtype=np.float64)


def bootstrap_pooled_diff_ci(
    before: Sequence[Sequence[float] | FloatArray],
    after: Sequence[Sequence[float] | FloatArray],
    q: float | None,
    *,
    relative: bool = False,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Change of a percentile (``None``: the mean) of values pooled over clusters.

    Each sample is a list of clusters (the per-token gaps of each request); a resample
    draws whole clusters with replacement and pools their values, so values that move
    together (one slow request's tokens) count as the one unit of noise they are.

    >>> a = [[10.0, 10.0], [10.0]]
    >>> bootstrap_pooled_diff_ci(a, [[11.0], [11.0, 11.0]], 50, relative=True).estimate
    0.1
    """
    _check(confidence, n_resamples)
    if q is not None and not 0 <= q <= 100:
        raise StatisticsError(f"percentile {q} outside 0..100")
    a, b = _Pooled(before), _Pooled(after)

    def stat(values: FloatArray) -> float:
        return float(values.mean() if q is None else np.percentile(values, q))

    estimate = float(_change(np.array([stat(a.values)]), np.array([stat(b.values)]), relative)[0])
    rng = np.random.default_rng(seed)
    block = max(1, 200_000 // max(a.nc, b.nc))
    parts = []
    for start in range(0, n_resamples, block):
        k = min(block, n_resamples - start)
        pa = rng.integers(0, a.nc, size=(k, a.nc))
        pb = rng.integers(0, b.nc, size=(k, b.nc))
        parts.append(_change(a.statistic(pa, q), b.statistic(pb, q), relative))
    return _interval(estimate, np.concatenate(parts), confidence, min(a.nc, b.nc))


# -- tests for the production watch (canary judge, drift) -------------------------------------
# Fixed-sample tests, matched against scipy / statsmodels in tests/test_stats_watch.py.


@dataclass(frozen=True)
class HypothesisTest:
    """A test statistic and its two-sided p-value."""

    statistic: float
    pvalue: float


def _normal_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def mann_whitney_u(
    x: Sequence[float] | FloatArray,
    y: Sequence[float] | FloatArray,
    alternative: Literal["two-sided", "greater"] = "two-sided",
) -> HypothesisTest:
    """Mann-Whitney U (normal approximation with tie and continuity corrections).

    Equals ``scipy.stats.mannwhitneyu(x, y, alternative=..., method="asymptotic")``:
    ``statistic`` is U of ``x``; ``greater`` asks whether ``x`` tends to be larger.
    """
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    n1, n2 = len(a), len(b)
    if n1 == 0 or n2 == 0:
        raise StatisticsError("mann_whitney_u needs two non-empty samples")
    both = np.concatenate([a, b])
    order = np.argsort(both, kind="mergesort")
    ranks = np.empty(len(both), dtype=np.float64)
    sorted_values = both[order]
    # Average ranks over ties.
    _, first, counts = np.unique(sorted_values, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    u1 = float(ranks[:n1].sum() - n1 * (n1 + 1) / 2.0)
    n = n1 + n2
    mean = n1 * n2 / 2.0
    tie_term = float((counts**3 - counts).sum())
    var = n1 * n2 / 12.0 * ((n + 1) - tie_term / (n * (n - 1))) if n > 1 else 0.0
    if var <= 0:
        return HypothesisTest(u1, 1.0)
    if alternative == "greater":
        return HypothesisTest(u1, min(1.0, _normal_sf((u1 - mean - 0.5) / math.sqrt(var))))
    u = max(u1, n1 * n2 - u1)
    z = (u - mean - 0.5) / math.sqrt(var)
    return HypothesisTest(u1, min(1.0, 2.0 * _normal_sf(z)))


def two_proportion_z(
    x1: int,
    n1: int,
    x2: int,
    n2: int,
    alternative: Literal["two-sided", "larger"] = "two-sided",
) -> HypothesisTest:
    """Two-proportion z test with the pooled variance.

    Equals ``statsmodels.stats.proportion.proportions_ztest([x1, x2], [n1, n2],
    alternative=...)``; ``statistic`` is z of the first proportion minus the second;
    ``larger`` asks whether the first proportion is the larger.
    """
    if n1 <= 0 or n2 <= 0 or not (0 <= x1 <= n1 and 0 <= x2 <= n2):
        raise StatisticsError(
            f"two_proportion_z: need 0 <= x <= n and n > 0, got {x1}/{n1}, {x2}/{n2}"
        )
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return HypothesisTest(0.0, 1.0)
    z = (x1 / n1 - x2 / n2) / se
    if alternative == "larger":
        return HypothesisTest(z, _normal_sf(z))
    return HypothesisTest(z, min(1.0, 2.0 * _normal_sf(abs(z))))


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_exact_greater(x1: int, n1: int, x2: int, n2: int) -> HypothesisTest:
    """Fisher's exact test that the first proportion is the larger (one-sided).

    Equals ``scipy.stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative="greater")``
    (``statistic`` is the sample odds ratio). Exact, so it never rejects more often than its
    level, even for rare events where the z test does.
    """
    if n1 <= 0 or n2 <= 0 or not (0 <= x1 <= n1 and 0 <= x2 <= n2):
        raise StatisticsError(
            f"fisher_exact_greater: need 0 <= x <= n and n > 0, got {x1}/{n1}, {x2}/{n2}"
        )
    total, hits = n1 + n2, x1 + x2
    denominator = _log_comb(total, n1)
    # P(X >= x1) for X ~ Hypergeometric(total, hits, n1); summed from the far tail up.
    tail = 0.0
    for k in range(min(hits, n1), x1 - 1, -1):
        if hits - k > n2:
            break
        tail += math.exp(_log_comb(hits, k) + _log_comb(total - hits, n1 - k) - denominator)
    a, b, c, d = x1, n1 - x1, x2, n2 - x2
    odds = (a * d) / (b * c) if b * c else (math.inf if a * d else math.nan)
    return HypothesisTest(odds, min(1.0, tail))


def _gamma_q(a: float, x: float) -> float:
    """The regularised upper incomplete gamma function Q(a, x) (Numerical Recipes 6.2)."""
    if x <= 0:
        return 1.0
    log_prefix = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:  # series for P, then Q = 1 - P
        term = total = 1.0 / a
        denom = a
        for _ in range(10_000):
            denom += 1
            term *= x / denom
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefix))
    # Lentz's continued fraction for Q.
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return min(1.0, math.exp(log_prefix) * h)


def chi2_sf(x: float, dof: int) -> float:
    """Survival function of chi-square with ``dof`` degrees of freedom."""
    return _gamma_q(dof / 2.0, x / 2.0)


def chi_square_contingency(table: Sequence[Sequence[float]]) -> HypothesisTest:
    """Pearson's chi-square test of independence (no continuity correction).

    Equals ``scipy.stats.chi2_contingency(table, correction=False)``. Rows and columns
    that are all zero are dropped first (they carry no information).
    """
    observed = np.asarray(table, dtype=np.float64)
    observed = observed[observed.sum(axis=1) > 0][:, observed.sum(axis=0) > 0]
    if observed.ndim != 2 or min(observed.shape) < 2:
        return HypothesisTest(0.0, 1.0)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    stat = float(((observed - expected) ** 2 / expected).sum())
    dof = (observed.shape[0] - 1) * (observed.shape[1] - 1)
    return HypothesisTest(stat, chi2_sf(stat, dof))


def _kolmogorov_sf(z: float) -> float:
    """P(K > z) for Kolmogorov's limiting distribution (``scipy.stats.kstwobign.sf``)."""
    if z < 0.3:
        return 1.0
    total = 0.0
    for k in range(1, 101):
        term = (-1) ** (k - 1) * math.exp(-2.0 * k * k * z * z)
        total += term
        if abs(term) < 1e-16:
            break
    return min(1.0, max(0.0, 2.0 * total))


def ks_2samp(x: Sequence[float] | FloatArray, y: Sequence[float] | FloatArray) -> HypothesisTest:
    """Two-sample Kolmogorov-Smirnov test, two-sided, with Smirnov's asymptotic p-value.

    ``statistic`` (the largest gap between the two empirical CDFs) equals
    ``scipy.stats.ks_2samp``'s; the p-value is ``kstwobign.sf(sqrt(n m / (n + m)) D)``,
    the large-sample limit (slightly conservative next to scipy's exact small-sample one).
    """
    a = np.sort(np.asarray(x, dtype=np.float64))
    b = np.sort(np.asarray(y, dtype=np.float64))
    n1, n2 = len(a), len(b)
    if n1 == 0 or n2 == 0:
        raise StatisticsError("ks_2samp needs two non-empty samples")
    both = np.concatenate([a, b])
    cdf1 = np.searchsorted(a, both, side="right") / n1
    cdf2 = np.searchsorted(b, both, side="right") / n2
    d = float(np.max(np.abs(cdf1 - cdf2)))
    en = n1 * n2 / (n1 + n2)
    return HypothesisTest(d, _kolmogorov_sf(math.sqrt(en) * d))


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (``statsmodels``' ``multipletests(fdr_bh)``)."""
    p = np.asarray(pvalues, dtype=np.float64)
    m = len(p)
    if m == 0:
        return []
    order = np.argsort(p)
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m, dtype=np.float64)
    out[order] = np.minimum(adjusted, 1.0)
    return [float(v) for v in out]


def jensen_shannon(p: Sequence[float] | FloatArray, q: Sequence[float] | FloatArray) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) between two count or share vectors."""
    a = np.asarray(p, dtype=np.float64)
    b = np.asarray(q, dtype=np.float64)
    if a.sum() <= 0 or b.sum() <= 0:
        return 0.0
    a, b = a / a.sum(), b / b.sum()
    m = (a + b) / 2

    def kl(u: FloatArray, v: FloatArray) -> float:
        mask = u > 0
        return float((u[mask] * np.log2(u[mask] / v[mask])).sum())

    return math.sqrt(max(0.0, (kl(a, m) + kl(b, m)) / 2))


def wasserstein(x: Sequence[float] | FloatArray, y: Sequence[float] | FloatArray) -> float:
    """The 1-Wasserstein (earth mover's) distance between two samples."""
    a = np.sort(np.asarray(x, dtype=np.float64))
    b = np.sort(np.asarray(y, dtype=np.float64))
    if len(a) == 0 or len(b) == 0:
        raise StatisticsError("wasserstein needs two non-empty samples")
    both = np.sort(np.concatenate([a, b]))
    widths = np.diff(both)
    cdf1 = np.searchsorted(a, both[:-1], side="right") / len(a)
    cdf2 = np.searchsorted(b, both[:-1], side="right") / len(b)
    return float((np.abs(cdf1 - cdf2) * widths).sum())
