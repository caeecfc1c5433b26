"""llmkit.stats against the reference implementations (scipy, statsmodels) on the same data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmkit import LLMKitError, stats
from llmkit.stats import StatisticsError

scipy_stats = pytest.importorskip("scipy.stats")
sm_contingency = pytest.importorskip("statsmodels.stats.contingency_tables")

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=1, max_size=50), st.floats(min_value=0, max_value=100))
def test_percentile_equals_numpy_linear(values: list[float], q: float) -> None:
    assert stats.percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert stats.percentiles(values, [q, 50]) == pytest.approx(
        [float(np.percentile(values, q)), float(np.percentile(values, 50))]
    )


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(StatisticsError, match="no values"):
        stats.percentile([], 50)


@pytest.mark.parametrize(
    ("n", "q", "ok"),
    [
        (64, 99, False),
        (499, 99, False),
        (500, 99, True),
        (100, 95, True),
        (9, 50, False),
        (10, 50, True),
    ],
)
def test_percentile_supported_needs_values_beyond_it(n: int, q: float, ok: bool) -> None:
    assert stats.percentile_supported(n, q) is ok


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 40), st.integers(0, 40))
def test_mcnemar_matches_statsmodels(lost: int, gained: int) -> None:
    table = [[5, lost], [gained, 7]]
    for exact, correction in [(True, True), (False, True), (False, False)]:
        ours = stats.mcnemar(lost, gained, exact=exact, correction=correction)
        if lost + gained == 0 and not exact:
            assert ours.pvalue == 1.0
            continue
        ref = sm_contingency.mcnemar(table, exact=exact, correction=correction)
        assert ours.statistic == pytest.approx(float(ref.statistic), abs=1e-12)
        assert ours.pvalue == pytest.approx(float(ref.pvalue), abs=1e-9)


def test_bootstrap_ci_matches_scipy_percentile_bootstrap() -> None:
    rng = np.random.default_rng(3)
    data = rng.normal(10.0, 2.0, size=200)
    ours = stats.bootstrap_ci(
        len(data), lambda idx: float(data[idx].mean()), seed=7, n_resamples=4000
    )
    ref = scipy_stats.bootstrap(
        (data,), np.mean, n_resamples=4000, method="percentile", random_state=7
    ).confidence_interval
    # Different random streams: the intervals agree to Monte-Carlo error, not bit for bit.
    assert ours.estimate == pytest.approx(data.mean())
    assert ours.low == pytest.approx(ref.low, abs=0.05)
    assert ours.high == pytest.approx(ref.high, abs=0.05)


def test_bootstrap_is_seeded_and_reproducible() -> None:
    data = np.arange(30, dtype=float)
    a = stats.bootstrap_ci(30, lambda idx: float(data[idx].mean()), seed=11)
    b = stats.bootstrap_ci(30, lambda idx: float(data[idx].mean()), seed=11)
    c = stats.bootstrap_ci(30, lambda idx: float(data[idx].mean()), seed=12)
    assert a == b
    assert a != c


def test_bootstrap_skips_nan_replicates() -> None:
    data = np.array([0.0, 0.0, 0.0, 1.0])
    ci = stats.bootstrap_ci(4, lambda idx: float("nan") if data[idx].sum() == 0 else 1.0)
    assert ci.low == ci.high == 1.0


def test_identical_samples_show_no_change() -> None:
    rng = np.random.default_rng(0)
    a = rng.lognormal(3, 0.5, 64)
    ci = stats.bootstrap_diff_ci(a, a.copy(), lambda v: float(np.percentile(v, 50)), relative=True)
    assert ci.estimate == 0.0
    assert not ci.excludes(0.0)


def test_a_clear_shift_is_significant() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(100, 5, 200)
    b = a + 30 + rng.normal(0, 1, 200)
    ci = stats.bootstrap_diff_ci(a, b, relative=True)
    assert ci.excludes(0.0)
    assert ci.low > 0.2


def test_paired_bootstrap_matches_scipy_on_differences() -> None:
    rng = np.random.default_rng(5)
    before = rng.integers(0, 2, 150).astype(float)
    after = np.where(rng.random(150) < 0.2, 0.0, before)
    ours = stats.paired_bootstrap_ci(before, after, seed=2, n_resamples=4000)
    ref = scipy_stats.bootstrap(
        (after - before,), np.mean, n_resamples=4000, method="percentile", random_state=2
    ).confidence_interval
    assert ours.estimate == pytest.approx(float((after - before).mean()))
    assert ours.low == pytest.approx(ref.low, abs=0.02)
    assert ours.high == pytest.approx(ref.high, abs=0.02)


def test_paired_lengths_must_match() -> None:
    with pytest.raises(StatisticsError, match="differ in length"):
        stats.paired_bootstrap_ci([1.0, 2.0], [1.0])


def test_relative_change_from_zero() -> None:
    ci = stats.bootstrap_diff_ci([0.0, 0.0], [1.0, 1.0], relative=True)
    assert math.isinf(ci.estimate)


@pytest.mark.parametrize("q", [None, 50, 90, 99])
def test_vectorised_percentile_diff_equals_the_generic_bootstrap(q: float | None) -> None:
    rng = np.random.default_rng(8)
    a, b = rng.lognormal(3, 0.6, 80), rng.lognormal(3.2, 0.6, 70)

    def stat(v: np.ndarray) -> float:
        return float(v.mean() if q is None else np.percentile(v, q))

    fast = stats.bootstrap_percentile_diff_ci(a, b, q, relative=True, seed=4)
    slow = stats.bootstrap_diff_ci(a, b, stat, relative=True, seed=4)
    assert fast.estimate == pytest.approx(slow.estimate)
    assert fast.low == pytest.approx(slow.low) and fast.high == pytest.approx(slow.high)


def test_vectorised_percentile_diff_matches_scipy_two_sample_bootstrap() -> None:
    rng = np.random.default_rng(9)
    a, b = rng.normal(100, 10, 300), rng.normal(104, 10, 250)
    ours = stats.bootstrap_percentile_diff_ci(a, b, 50, seed=1, n_resamples=4000)
    ref = scipy_stats.bootstrap(
        (a, b),
        lambda x, y, axis: np.percentile(y, 50, axis=axis) - np.percentile(x, 50, axis=axis),
        n_resamples=4000, method="percentile", random_state=1, vectorized=True,
    ).confidence_interval  # fmt: skip
    assert ours.low == pytest.approx(ref.low, abs=0.6)
    assert ours.high == pytest.approx(ref.high, abs=0.6)


def test_vectorised_percentile_diff_in_blocks_and_from_zero() -> None:
    big = np.arange(5000, dtype=float)  # several blocks of resamples
    ci = stats.bootstrap_percentile_diff_ci(big, big + 500, 50, n_resamples=1000)
    assert ci.estimate == 500 and ci.excludes(0.0)
    zero = stats.bootstrap_percentile_diff_ci([0.0, 0.0], [1.0, 1.0], None, relative=True)
    assert math.isinf(zero.estimate)
    with pytest.raises(StatisticsError, match="outside"):
        stats.bootstrap_percentile_diff_ci([1.0], [1.0], 101)


@pytest.mark.parametrize("q", [None, 0, 37.5, 50, 99, 100])
def test_pooled_cluster_bootstrap_equals_pooling_each_resample(q: float | None) -> None:
    rng = np.random.default_rng(12)
    a = [
        rng.normal(m, 1, int(k))
        for m, k in zip(rng.lognormal(1, 0.3, 20), rng.integers(1, 30, 20), strict=True)
    ]
    b = [
        rng.normal(m, 1, int(k))
        for m, k in zip(rng.lognormal(1, 0.3, 15), rng.integers(1, 30, 15), strict=True)
    ]
    ours = stats.bootstrap_pooled_diff_ci(a, b, q, seed=3, n_resamples=400)
    # The same draws, pooled the slow way.
    draws = np.random.default_rng(3)
    pa, pb = draws.integers(0, 20, (400, 20)), draws.integers(0, 15, (400, 15))

    def stat(picks: np.ndarray, clusters: list[np.ndarray]) -> float:
        pooled = np.concatenate([clusters[i] for i in picks])
        return float(pooled.mean() if q is None else np.percentile(pooled, q))

    reps = [stat(j, b) - stat(i, a) for i, j in zip(pa, pb, strict=True)]
    low, high = np.quantile(reps, [0.025, 0.975])
    assert ours.low == pytest.approx(low) and ours.high == pytest.approx(high)
    want = stat(np.arange(15), b) - stat(np.arange(20), a)
    assert ours.estimate == pytest.approx(want) and ours.n == 15


def test_pooled_bootstrap_counts_a_request_as_one_unit_of_noise() -> None:
    # 64 requests, each with its own pace: pooling 16k token gaps as if independent
    # would call a 2% drift significant; resampling requests says it is noise.
    rng = np.random.default_rng(0)
    a = [rng.normal(m, 1, 250) for m in rng.lognormal(1, 0.3, 64)]
    b = [rng.normal(m, 1, 250) for m in rng.lognormal(1, 0.3, 64)]
    naive = stats.bootstrap_percentile_diff_ci(np.concatenate(a), np.concatenate(b), 50)
    pooled = stats.bootstrap_pooled_diff_ci(a, b, 50)
    assert naive.excludes(0.0) and not pooled.excludes(0.0)
    with pytest.raises(StatisticsError, match="empty"):
        stats.bootstrap_pooled_diff_ci([[]], [[1.0]], 50)


def test_bootstrap_draws_in_blocks_without_changing_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = np.random.default_rng(9).normal(size=300)

    def run() -> stats.Interval:
        return stats.bootstrap_ci(300, lambda idx: float(data[idx].mean()), n_resamples=50, seed=4)

    whole = run()
    monkeypatch.setattr(stats, "_DRAW_BLOCK", 7 * 300)  # 7 resamples per block, 8 blocks
    assert run() == whole


def test_bad_input_raises_llmkits_error_which_is_also_a_value_error() -> None:
    with pytest.raises(StatisticsError) as caught:
        stats.percentile([], 50)
    assert isinstance(caught.value, LLMKitError) and isinstance(caught.value, ValueError)


def _scipy_sign_flip(diff: np.ndarray, n_resamples: float) -> float:
    # the sum orders sign flips as the mean does, without the mean's rounding (quarters sum
    # exactly in any order, so ties are ties for scipy too)
    return float(
        scipy_stats.permutation_test(
            (diff,),
            lambda x, axis: np.sum(x, axis=axis),
            permutation_type="samples",
            n_resamples=n_resamples,
            alternative="two-sided",
            random_state=np.random.default_rng(1),
        ).pvalue
    )


# Scores on a grid of quarters: many ties and all-equal pairs, and sums exact in binary.
quarters = st.integers(0, 4).map(lambda k: k / 4)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(quarters, quarters), min_size=2, max_size=13))
def test_sign_flip_test_equals_scipy_exact_on_small_n(pairs: list[tuple[float, float]]) -> None:
    before = np.array([b for b, _ in pairs])
    after = np.array([a for _, a in pairs])
    ours = stats.paired_permutation_test(before, after)
    assert ours.exact
    assert ours.changed == int(np.count_nonzero(after != before))
    assert ours.pvalue == pytest.approx(_scipy_sign_flip(after - before, np.inf), abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sign_flip_test_agrees_with_scipy_on_large_n(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(40, 120))
    before = rng.uniform(0, 1, n)
    after = np.clip(before + rng.normal(-0.03, 0.2, n), 0, 1)
    ours = stats.paired_permutation_test(before, after, seed=seed, n_resamples=40_000)
    assert not ours.exact
    ref = _scipy_sign_flip(after - before, 40_000)
    # two Monte Carlo estimates of one p-value: within a few standard errors
    se = math.sqrt(max(ref * (1 - ref), 1e-4) / 40_000)
    assert ours.pvalue == pytest.approx(ref, abs=6 * se + 1e-3)
    again = stats.paired_permutation_test(before, after, seed=seed, n_resamples=40_000)
    assert again == ours  # same seed, same p-value


def test_sign_flip_test_of_equal_pairs_is_one_and_of_one_pair_cannot_be_significant() -> None:
    same = stats.paired_permutation_test([0.5, 1.0, 0.0], [0.5, 1.0, 0.0])
    assert (same.pvalue, same.changed, same.statistic) == (1.0, 0, 0.0)
    one = stats.paired_permutation_test([1.0], [0.5])
    assert one.pvalue == 1.0 and one.changed == 1
    five = stats.paired_permutation_test([1.0] * 5, [0.0] * 5)
    six = stats.paired_permutation_test([1.0] * 6, [0.0] * 6)
    assert five.pvalue == stats.min_attainable_pvalue(5) == 0.0625
    assert six.pvalue == stats.min_attainable_pvalue(6) == 0.03125


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 30), st.floats(min_value=0.001, max_value=0.5))
def test_no_exact_test_beats_the_minimum_attainable_p(changed: int, alpha: float) -> None:
    # all changed pairs one way is the most extreme outcome: McNemar's exact test gives
    # exactly the floor, so fewer than pairs_needed(alpha) can never reach alpha
    assert stats.mcnemar(changed, 0).pvalue == pytest.approx(stats.min_attainable_pvalue(changed))
    need = stats.pairs_needed(alpha)
    assert stats.min_attainable_pvalue(need) < alpha <= stats.min_attainable_pvalue(need - 1)
