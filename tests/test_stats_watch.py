"""The watch's fixed-sample tests match scipy / statsmodels on the same data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

from llmkit.stats import (
    StatisticsError,
    benjamini_hochberg,
    chi2_sf,
    chi_square_contingency,
    fisher_exact_greater,
    jensen_shannon,
    ks_2samp,
    mann_whitney_u,
    two_proportion_z,
    wasserstein,
)

SEEDS = range(8)


def _samples(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n1, n2 = rng.integers(5, 300, size=2)
    x = rng.lognormal(0, 0.5, n1)
    y = rng.lognormal(rng.uniform(-0.3, 0.3), 0.5, n2)
    if seed % 2:  # ties, as latencies rounded to the millisecond have
        x, y = np.round(x, 1), np.round(y, 1)
    return x, y


@pytest.mark.parametrize("alternative", ["two-sided", "greater"])
@pytest.mark.parametrize("seed", SEEDS)
def test_mann_whitney_matches_scipy(seed: int, alternative: Any) -> None:
    x, y = _samples(seed)
    ours = mann_whitney_u(x, y, alternative)
    ref = sps.mannwhitneyu(x, y, alternative=alternative, method="asymptotic")
    assert ours.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2"), [(3, 100, 12, 100), (0, 50, 1, 60), (40, 400, 44, 380), (7, 7, 3, 9)]
)
@pytest.mark.parametrize("alternative", ["two-sided", "larger"])
def test_two_proportion_z_matches_statsmodels(
    x1: int, n1: int, x2: int, n2: int, alternative: Any
) -> None:
    ours = two_proportion_z(x1, n1, x2, n2, alternative)
    z, p = proportions_ztest([x1, x2], [n1, n2], alternative=alternative)
    assert ours.statistic == pytest.approx(z, rel=1e-12)
    assert ours.pvalue == pytest.approx(p, rel=1e-9)


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2"),
    [
        (3, 100, 12, 100),
        (0, 50, 1, 60),
        (40, 400, 44, 380),
        (7, 7, 3, 9),
        (9, 40, 2, 160),
        (0, 5, 0, 5),
    ],
)
def test_fisher_exact_greater_matches_scipy(x1: int, n1: int, x2: int, n2: int) -> None:
    ours = fisher_exact_greater(x1, n1, x2, n2)
    ref = sps.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative="greater")
    assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-9)
    if np.isfinite(ref.statistic):
        assert ours.statistic == pytest.approx(ref.statistic, rel=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_chi_square_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = rng.integers(0, 80, size=(2, int(rng.integers(2, 6)))) + 1
    ours = chi_square_contingency(table)
    ref = sps.chi2_contingency(table, correction=False)
    assert ours.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("dof", [1, 2, 3, 7, 30])
@pytest.mark.parametrize("x", [0.01, 0.5, 2.0, 9.0, 40.0, 150.0])
def test_chi2_sf_matches_scipy(x: float, dof: int) -> None:
    assert chi2_sf(x, dof) == pytest.approx(sps.chi2.sf(x, dof), rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("seed", SEEDS)
def test_ks_matches_scipy(seed: int) -> None:
    x, y = _samples(seed)
    ours = ks_2samp(x, y)
    ref = sps.ks_2samp(x, y)
    assert ours.statistic == pytest.approx(ref.statistic, rel=1e-12)
    en = len(x) * len(y) / (len(x) + len(y))
    assert ours.pvalue == pytest.approx(
        sps.kstwobign.sf(np.sqrt(en) * ours.statistic), rel=1e-9, abs=1e-15
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_benjamini_hochberg_matches_statsmodels(seed: int) -> None:
    p = np.random.default_rng(seed).uniform(0, 0.2, size=9)
    assert benjamini_hochberg(p) == pytest.approx(list(multipletests(p, method="fdr_bh")[1]))


@pytest.mark.parametrize("seed", SEEDS)
def test_effect_sizes_match_scipy(seed: int) -> None:
    from scipy.spatial.distance import jensenshannon

    x, y = _samples(seed)
    assert wasserstein(x, y) == pytest.approx(sps.wasserstein_distance(x, y), rel=1e-9)
    p, q = np.histogram(x, bins=5, range=(0, 4))[0], np.histogram(y, bins=5, range=(0, 4))[0]
    assert jensen_shannon(p, q) == pytest.approx(jensenshannon(p, q, base=2), rel=1e-9)


def test_degenerate_inputs_are_refused_or_neutral() -> None:
    with pytest.raises(StatisticsError):
        mann_whitney_u([], [1.0])
    with pytest.raises(StatisticsError):
        two_proportion_z(5, 3, 1, 2)
    assert mann_whitney_u([1.0, 1.0], [1.0, 1.0]).pvalue == 1.0
    assert two_proportion_z(0, 10, 0, 10).pvalue == 1.0
    assert chi_square_contingency([[5, 0], [7, 0]]).pvalue == 1.0
