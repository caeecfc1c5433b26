"""The paired tests behind a baseline verdict, checked against scipy and statsmodels."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

from llmkit.evals._baseline import compare_to_baseline


def summary(values: dict[str, tuple[float, bool]]) -> dict[str, Any]:
    return {
        "format": "llmkit.eval.summary/1",
        "per_case": {
            c: {"passed": p, "scores": {"s": {"score": v, "passed": p}}}
            for c, (v, p) in values.items()
        },
    }


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_mcnemar_equals_statsmodels_exact(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 200))
    before = rng.random(n) < 0.8
    after = np.where(rng.random(n) < 0.2, ~before, before)
    b = summary({f"c{i}": (float(x), bool(x)) for i, x in enumerate(before)})
    a = summary({f"c{i}": (float(x), bool(x)) for i, x in enumerate(after)})
    m = compare_to_baseline(a, b).metrics[1]
    table = [
        [int((before & after).sum()), int((before & ~after).sum())],
        [int((~before & after).sum()), int((~before & ~after).sum())],
    ]
    ref = sm_mcnemar(table, exact=True)
    assert m.pvalue == pytest.approx(ref.pvalue, rel=1e-12)
    assert (m.lost, m.gained) == (table[0][1], table[1][0])
    # the exact McNemar test is a two-sided binomial test on the discordant cases
    if m.lost + m.gained:
        binom = sps.binomtest(m.lost, m.lost + m.gained, 0.5).pvalue
        assert m.pvalue == pytest.approx(binom, rel=1e-12)


def test_paired_bootstrap_matches_scipy_bootstrap() -> None:
    rng = np.random.default_rng(11)
    old = rng.uniform(0.3, 1.0, 80)
    new = np.clip(old - 0.05 + rng.normal(0, 0.1, 80), 0, 1)
    b = summary({f"c{i}": (float(v), True) for i, v in enumerate(old)})
    a = summary({f"c{i}": (float(v), True) for i, v in enumerate(new)})
    ours = compare_to_baseline(a, b, n_resamples=20000, alpha=0.05).metrics[-1]
    assert ours.metric == "s.score"
    ref = sps.bootstrap(
        (old, new),
        lambda x, y, axis: np.mean(y - x, axis=axis),
        paired=True,
        vectorized=True,
        n_resamples=20000,
        confidence_level=0.95,
        method="percentile",
        random_state=np.random.default_rng(5),
    )
    assert ours.change == pytest.approx(float(np.mean(new - old)), abs=1e-12)
    # two independent Monte Carlo runs of the same percentile bootstrap
    se = ref.standard_error
    assert ours.interval.low == pytest.approx(ref.confidence_interval.low, abs=0.1 * se)
    assert ours.interval.high == pytest.approx(ref.confidence_interval.high, abs=0.1 * se)


quarters = st.integers(0, 4).map(lambda k: k / 4)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(quarters, quarters), min_size=2, max_size=12), st.integers(0, 3))
def test_small_n_graded_verdict_is_scipys_exact_permutation_test(
    pairs: list[tuple[float, float]], seed: int
) -> None:
    old = np.array([b for b, _ in pairs])
    new = np.array([a for _, a in pairs])
    assume(not np.all(np.concatenate([old, new]) == 1.0))  # else the score *is* the pass
    b = summary({f"c{i}": (float(v), True) for i, v in enumerate(old)})
    a = summary({f"c{i}": (float(v), True) for i, v in enumerate(new)})
    m = next(x for x in compare_to_baseline(a, b, seed=seed).metrics if x.kind == "score")
    assert m.test == "sign-flip" and m.interval is None
    ref = sps.permutation_test(
        (new - old,),
        # the sum orders sign flips as the mean does, and quarters sum exactly in any order
        lambda x, axis: np.sum(x, axis=axis),
        permutation_type="samples",
        n_resamples=np.inf,
        alternative="two-sided",
    ).pvalue
    assert m.pvalue == pytest.approx(float(ref), abs=1e-12)
    changed = int(np.count_nonzero(new != old))
    assert m.inconclusive == (changed < 6)
    assert m.significant == (not m.inconclusive and m.pvalue < 0.05 and m.change < 0)
    # same seed, same verdict
    again = next(x for x in compare_to_baseline(a, b, seed=seed).metrics if x.kind == "score")
    assert again == m


@pytest.mark.parametrize("seed", [0, 1])
def test_large_n_pass_verdict_is_statsmodels_and_seeded(seed: int) -> None:
    rng = np.random.default_rng(seed + 40)
    n = 300
    before = rng.random(n) < 0.9
    after = np.where(rng.random(n) < 0.1, rng.random(n) < 0.7, before)
    b = summary({f"c{i}": (float(x), bool(x)) for i, x in enumerate(before)})
    a = summary({f"c{i}": (float(x), bool(x)) for i, x in enumerate(after)})
    one = compare_to_baseline(a, b, seed=seed).metrics[1]
    lost, gained = int((before & ~after).sum()), int((~before & after).sum())
    ref = sm_mcnemar([[0, lost], [gained, 0]], exact=True).pvalue
    assert one.pvalue == pytest.approx(ref, rel=1e-12)
    assert one.interval is not None and one.interval.low < one.change < one.interval.high
    assert compare_to_baseline(a, b, seed=seed).metrics[1] == one
