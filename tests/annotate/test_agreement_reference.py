"""Every agreement statistic equals its reference package on random data, to 1e-9.

References (test-only): ``krippendorff.alpha``, ``sklearn.metrics.cohen_kappa_score``,
``statsmodels.stats.inter_rater.fleiss_kappa`` and ``irrCAC.raw.CAC.gwet`` (AC1 and its
percent agreement ``pa``). Hypothesis draws ratings matrices with missing ratings, one
category only, single items and raters who share nothing.
"""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from llmkit.annotate._agreement import (
    LEVELS,
    agreement_summary,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    percent_agreement,
)
from llmkit.annotate._agreement_core import _alpha_w, _from_frame, _Pairs
from llmkit.cli._annotate_agreement import agreement as agreement_command

krippendorff = pytest.importorskip("krippendorff")
sklearn_metrics = pytest.importorskip("sklearn.metrics")
inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
irrcac_raw = pytest.importorskip("irrCAC.raw")

TOL = 1e-9
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NUMBER_SETS = ([1.0, 2.0, 3.0, 4.0, 5.0], [0.0, 0.5, 1.25, 7.75], [-3.0, 0.0, 2.0, 10.0, 100.5])
LABELS = ["bad", "good", "meh", "ok"]


def _quiet(fn: Any, *args: Any, **kwargs: Any) -> float:
    """A reference call; its degenerate-case warnings and errors read as NaN (undefined)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(fn(*args, **kwargs))
        except (ValueError, ZeroDivisionError, IndexError):
            return math.nan


def _same(mine: float, ref: float) -> bool:
    if math.isnan(ref) or math.isinf(ref):
        return math.isnan(mine)
    return abs(mine - ref) <= TOL


@st.composite
def matrices(draw: Any, labels: bool = False) -> tuple[list[list[Any]], list[Any]]:
    """Items × raters ratings (None = not rated) and the pool of values used."""
    pool: list[Any] = LABELS if labels else draw(st.sampled_from(NUMBER_SETS))
    k = draw(st.integers(1, min(len(pool), 5)))
    values = draw(st.lists(st.sampled_from(pool), min_size=k, max_size=k, unique=True))
    n_items = draw(st.integers(1, 25))
    n_raters = draw(st.integers(2, 5))
    p_missing = draw(st.sampled_from([0.0, 0.2, 0.5]))
    cell = st.one_of(st.none(), st.sampled_from(values)) if p_missing else st.sampled_from(values)
    rows = draw(
        st.lists(
            st.lists(cell, min_size=n_raters, max_size=n_raters),
            min_size=n_items,
            max_size=n_items,
        )
    )
    return rows, values


def _long(rows: list[list[Any]]) -> pd.DataFrame:
    records = [
        (f"i{i}", f"r{j}", v)
        for i, row in enumerate(rows)
        for j, v in enumerate(row)
        if v is not None
    ]
    return pd.DataFrame(records, columns=["item", "rater", "value"])


def _rated(rows: list[list[Any]]) -> list[list[Any]]:
    return [row for row in rows if any(v is not None for v in row)]


def _kripp_ref(rows: list[list[Any]], level: str, labels: bool) -> float:
    if labels:
        data = np.array([[("nan" if v is None else v) for v in r] for r in rows], dtype=object)
        data = data.astype(str).T
        domain = sorted({v for r in rows for v in r if v is not None})
        return _quiet(krippendorff.alpha, data, value_domain=domain, level_of_measurement=level)
    data = np.array([[np.nan if v is None else v for v in r] for r in rows], dtype=float).T
    return _quiet(krippendorff.alpha, data, level_of_measurement=level)


def _gwet_ref(rows: list[list[Any]]) -> tuple[float, float] | None:
    """irrCAC's AC1 and pa; None when it cannot say (its variance divides by items - 1)."""
    frame = pd.DataFrame(_rated(rows))
    frame = frame.astype(object).where(frame.notna(), np.nan)
    if len(frame) < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = irrcac_raw.CAC(frame, digits=15).gwet()["est"]
    return float(est["coefficient_value"]), float(est["pa"])


def _fleiss_ref(rows: list[list[Any]]) -> float:
    counts = [sum(v is not None for v in r) for r in rows]
    top = max(counts)
    chosen = [
        [v for v in r if v is not None] for r, c in zip(rows, counts, strict=True) if c == top
    ]
    if top < 2 or len(chosen) < 2:
        return math.nan
    table, _ = inter_rater.aggregate_raters(np.array(chosen, dtype=object))
    return _quiet(inter_rater.fleiss_kappa, table)


@SETTINGS
@given(matrices())
def test_krippendorff_alpha_equals_krippendorff_package(data: Any) -> None:
    rows, _ = data
    frame = _long(rows)
    for level in LEVELS:
        ref = _kripp_ref(_rated(rows), level, labels=False)
        assert _same(krippendorff_alpha(frame, level), ref), level


@SETTINGS
@given(matrices(labels=True))
def test_krippendorff_alpha_on_labels_orders_them_by_sort_order(data: Any) -> None:
    rows, _ = data
    frame = _long(rows)
    for level in ("nominal", "ordinal"):
        ref = _kripp_ref(_rated(rows), level, labels=True)
        assert _same(krippendorff_alpha(frame, level), ref), level


@SETTINGS
@given(matrices(labels=True) | matrices())
def test_cohen_kappa_equals_sklearn_over_items_both_rated(data: Any) -> None:
    rows, pool = data
    a = [r[0] for r in rows]
    b = [r[1] for r in rows]
    # sklearn refuses fractional numbers as classes: give it order-preserving integer codes.
    ref_code = {v: v if isinstance(v, str) else i for i, v in enumerate(sorted(pool))}
    both = [
        (ref_code[x], ref_code[y])
        for x, y in zip(a, b, strict=True)
        if x is not None and y is not None
    ]
    for weights in (None, "linear", "quadratic"):
        ref = (
            _quiet(
                sklearn_metrics.cohen_kappa_score,
                [x for x, _ in both],
                [y for _, y in both],
                weights=weights,
            )
            if both
            else math.nan
        )
        assert _same(cohen_kappa(a, b, weights=weights), ref), weights
    # Through the frame: with exactly two raters the summary's κ is the same number.
    two = _long([r[:2] for r in rows])
    summary = agreement_summary(two) if not two.empty else None
    if summary is not None and summary.n_raters == 2:
        assert _same(summary.cohen_kappa, cohen_kappa(a, b))
        assert _same(summary.cohen_kappa_quadratic, cohen_kappa(a, b, weights="quadratic"))
    elif summary is not None:
        assert math.isnan(summary.cohen_kappa)


@SETTINGS
@given(matrices(labels=True) | matrices())
def test_fleiss_kappa_equals_statsmodels_over_items_with_most_ratings(data: Any) -> None:
    rows, _ = data
    rated = _rated(rows)
    assume(rated)
    assert _same(fleiss_kappa(_long(rows)), _fleiss_ref(rated))


@SETTINGS
@given(matrices(labels=True) | matrices())
def test_gwet_ac1_and_percent_agreement_equal_irrcac(data: Any) -> None:
    rows, _ = data
    assume(_rated(rows))
    ref = _gwet_ref(rows)
    assume(ref is not None)  # one item: see test_gwet_ac1_on_one_item_by_hand
    ac1, pa = ref
    frame = _long(rows)
    assert _same(gwet_ac1(frame), ac1)
    assert _same(percent_agreement(frame), pa)


@SETTINGS
@given(matrices(), st.data())
def test_item_weights_equal_a_materialised_cluster_resample(data: Any, draw: Any) -> None:
    """A bootstrap replicate (item multiplicities) equals the reference on duplicated items."""
    rows, _ = data
    frame = _long(rows)
    assume(not frame.empty)
    c = _from_frame(frame, "item", "rater", "value")
    picks = draw.draw(st.lists(st.integers(0, c.n_items - 1), min_size=1, max_size=30))
    w = np.bincount(picks, minlength=c.n_items).astype(np.float64)
    resampled = [rows[int(str(item)[1:])] for item in c.items[picks]]  # "i7" -> rows[7]
    for level in LEVELS:
        ref = _kripp_ref(_rated(resampled), level, labels=False)
        assert _same(_alpha_w(c, w, level, None), ref), level
    if c.raters.size == 2:
        pairs = _Pairs.of(c, 0, 1)
        ref_code = {v: i for i, v in enumerate(sorted(data[1]))}
        both = [
            (ref_code[r[0]], ref_code[r[1]])
            for r in resampled
            if r[0] is not None and r[1] is not None
        ]
        if both and len({v for pair in both for v in pair}) == pairs.k:
            ref = _quiet(
                sklearn_metrics.cohen_kappa_score,
                [x for x, _ in both],
                [y for _, y in both],
                weights="linear",
            )
            assert _same(pairs.kappa(w, "linear"), ref)


def test_krippendorffs_canonical_example() -> None:
    """The 3-coder, 15-unit reliability table from Krippendorff's own worked example (the
    values krippendorff.alpha's docstring also quotes: 0.691358 nominal, 0.810845 interval)."""
    coders = [
        [None, None, None, None, None, 3, 4, 1, 2, 1, 1, 3, 3, None, 3],
        [1, None, 2, 1, 3, 3, 4, 3, None, None, None, None, None, None, None],
        [None, None, 2, 1, 3, 4, 4, None, 2, 1, 1, 3, 3, None, 4],
    ]
    frame = _long([list(col) for col in zip(*coders, strict=True)])
    assert round(krippendorff_alpha(frame, "nominal"), 6) == 0.691358
    assert round(krippendorff_alpha(frame, "interval"), 6) == 0.810845


def test_gwet_ac1_on_gwets_four_rater_example() -> None:
    """The 4-rater, 12-subject example with missing ratings from Gwet's handbook, as quoted in
    irrCAC's documentation: AC1 = 0.77544, pa = 0.81818."""
    table = [
        [1, 1, None, 1],
        [2, 2, 3, 2],
        [3, 3, 3, 3],
        [3, 3, 3, 3],
        [2, 2, 2, 2],
        [1, 2, 3, 4],
        [4, 4, 4, 4],
        [1, 1, 2, 1],
        [2, 2, 2, 2],
        [None, 5, 5, 5],
        [None, None, 1, 1],
        [None, None, 3, None],
    ]
    frame = _long(table)
    assert round(gwet_ac1(frame), 5) == 0.77544
    assert round(percent_agreement(frame), 5) == 0.81818


def test_gwet_ac1_on_one_item_by_hand() -> None:
    """irrCAC cannot run on one item; by Gwet's formulas: pa = 0, pi = (.5, .5), pe = .5."""
    frame = _long([["yes", "no"]])
    assert gwet_ac1(frame) == -1.0
    assert percent_agreement(frame) == 0.0
    assert gwet_ac1(_long([["yes", "yes"]])) == 1.0  # one category only: AC1's limit, 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(matrices(labels=True) | matrices(), st.sampled_from(LEVELS), st.booleans())
def test_cli_json_equals_the_reference_packages(data: Any, level: str, messy: bool) -> None:
    """The held-out check's shape: a long CSV in, each JSON key against its reference."""
    rows, pool = data
    labels = isinstance(pool[0], str)
    if labels and level in ("interval", "ratio"):
        level = "ordinal"
    assume(_rated(rows))

    def cell(v: Any) -> str:
        if isinstance(v, str):
            return f"  {v} " if messy else v
        return (f" {v:.3f}" if messy else f"{v:g}") if v != int(v) or messy else str(int(v))

    body = [
        f"item {i},{'R' if messy else 'r'}{j},{cell(v)}"
        for i, row in enumerate(rows)
        for j, v in enumerate(row)
        if v is not None
    ]
    header = "\ufeffItem , RATER , Value" if messy else "item,rater,value"
    result = CliRunner().invoke(
        agreement_command, ["-", "--level", level, "--json"], input="\n".join([header, *body])
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    rated = _rated(rows)
    raters_used = {j for row in rows for j, v in enumerate(row) if v is not None}
    assert out["n_items"] == len(rated) and out["n_raters"] == len(raters_used)

    def check(key: str, ref: float) -> None:
        got = out[key]
        assert (got is None) if math.isnan(ref) else abs(got - ref) <= TOL, (key, got, ref)

    check("krippendorff_alpha", _kripp_ref(rated, level, labels))
    check("fleiss_kappa", _fleiss_ref(rated))
    gwet = _gwet_ref(rows)
    if gwet is not None:
        check("gwet_ac1", gwet[0])
        check("percent_agreement", gwet[1])
    if len(raters_used) == 2:
        first, second = sorted(raters_used)
        ref_code = {v: v if labels else i for i, v in enumerate(sorted(pool))}
        both = [
            (ref_code[r[first]], ref_code[r[second]])
            for r in rows
            if r[first] is not None and r[second] is not None
        ]
        ref = (
            _quiet(sklearn_metrics.cohen_kappa_score, [x for x, _ in both], [y for _, y in both])
            if both
            else math.nan
        )
        check("cohen_kappa", ref)
    else:
        assert out["cohen_kappa"] is None


@pytest.mark.slow
@SETTINGS
@given(matrices(labels=True) | matrices(), st.randoms(use_true_random=False))
def test_categories_given_equal_the_references_given_the_same_scale(data: Any, random: Any) -> None:
    """A scale with unused categories: sklearn labels=, krippendorff value_domain=, irrCAC
    categories=. Labels take the order given (here shuffled), numbers their numeric order."""
    rows, pool = data
    assume(_rated(rows))
    labels = isinstance(pool[0], str)
    scale = list(LABELS) if labels else sorted({*pool, 99.0})
    if labels:
        random.shuffle(scale)
    frame = _long(rows)
    rated = _rated(rows)
    matrix = np.array(
        [
            [("nan" if v is None else v) if labels else (np.nan if v is None else v) for v in r]
            for r in rated
        ],
        dtype=object if labels else float,
    )
    data_t = matrix.astype(str).T if labels else matrix.T
    for level in ("nominal", "ordinal"):
        ref = _quiet(krippendorff.alpha, data_t, value_domain=scale, level_of_measurement=level)
        assert _same(krippendorff_alpha(frame, level, categories=scale), ref), level
    wide = pd.DataFrame(rated).astype(object)
    wide = wide.where(wide.notna(), np.nan)
    if len(wide) >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = irrcac_raw.CAC(wide, categories=scale, digits=15).gwet()["est"]
        assert _same(gwet_ac1(frame, categories=scale), float(est["coefficient_value"]))
    a = [r[0] for r in rows]
    b = [r[1] for r in rows]
    both = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    code = {v: v if labels else i for i, v in enumerate(scale)}
    for weights in (None, "linear", "quadratic"):
        ref = (
            _quiet(
                sklearn_metrics.cohen_kappa_score,
                [code[x] for x, _ in both],
                [code[y] for _, y in both],
                labels=[code[v] for v in scale],
                weights=weights,
            )
            if both
            else math.nan
        )
        two = frame[frame.rater.isin(["r0", "r1"])]
        summary = agreement_summary(two, categories=scale)
        got = getattr(summary, "cohen_kappa" + (f"_{weights}" if weights else ""))
        if summary.n_raters == 2:
            assert _same(got, ref), weights
