"""Agreement definitions, degenerate cases, grouping, bootstrap intervals and consensus."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest

from llmkit.annotate._agreement import (
    AgreementDataError,
    agreement_by,
    agreement_summary,
    coerce_values,
    cohen_kappa,
    consensus_agreement,
    fleiss_kappa,
    krippendorff_alpha,
    pairwise_agreement,
    percent_agreement,
    read_ratings_csv,
)


def frame(rows: list[tuple[object, object, object]], **extra: list[object]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["item", "rater", "value"])
    for name, values in extra.items():
        df[name] = values
    return df


# ----------------------------------------------------------------------------- values


def test_values_are_numbers_only_when_every_one_parses() -> None:
    assert coerce_values(["1", " 2.5 ", 3]).tolist() == [1.0, 2.5, 3.0]
    assert coerce_values(["1", "two"]).tolist() == ["1", "two"]
    # "nan" and "inf" are not finite numbers: the column is labels, nothing goes missing.
    assert coerce_values(["1", "nan"]).tolist() == ["1", "nan"]
    assert coerce_values(["1", "inf"]).tolist() == ["1", "inf"]
    out = coerce_values(["4", None, "", float("nan")])
    assert out.iloc[0] == 4.0 and out.iloc[1:].isna().all()


def test_numbers_written_differently_are_the_same_value() -> None:
    ratings = frame([(1, "a", "1"), (1, "b", "1.0"), (2, "a", "2"), (2, "b", " 2 ")])
    assert percent_agreement(ratings) == 1.0


def test_missing_values_are_ratings_not_made() -> None:
    with_missing = frame([(1, "a", "x"), (1, "b", "x"), (1, "c", None), (2, "a", "y")])
    assert agreement_summary(with_missing).n_ratings == 3


def test_a_duplicate_item_rater_pair_is_refused_not_averaged() -> None:
    with pytest.raises(AgreementDataError, match="rated twice by rater 'a'"):
        krippendorff_alpha(frame([(1, "a", 1), (1, "a", 2), (1, "b", 2)]))


def test_a_missing_column_is_named() -> None:
    with pytest.raises(AgreementDataError, match="value"):
        fleiss_kappa(pd.DataFrame({"item": [1], "rater": ["a"]}))


def test_interval_level_over_labels_is_refused() -> None:
    with pytest.raises(AgreementDataError, match="numeric"):
        agreement_summary(frame([(1, "a", "x"), (1, "b", "y")]), level="interval")
    with pytest.raises(AgreementDataError, match="level must be one of"):
        agreement_summary(frame([(1, "a", 1)]), level="cardinal")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- definitions


def test_undefined_statistics_are_nan_and_none_in_the_dict() -> None:
    one_rating_each = frame([(1, "a", 1), (2, "b", 2)])
    s = agreement_summary(one_rating_each)
    assert math.isnan(s.krippendorff_alpha) and math.isnan(s.gwet_ac1)
    assert math.isnan(s.cohen_kappa)  # two raters, but no item both rated
    d = s.to_dict()
    assert d["krippendorff_alpha"] is None and d["cohen_kappa"] is None
    assert d["percent_agreement"] is None and d["n_items"] == 2 and d["n_raters"] == 2


def test_one_category_only() -> None:
    same = frame([(i, r, "ok") for i in range(3) for r in "ab"])
    s = agreement_summary(same)
    assert s.percent_agreement == 1.0
    assert s.gwet_ac1 == 1.0  # Gwet's AC1 has its limit 1 here (irrCAC agrees)
    # κ and α divide by the chance disagreement, which is zero: undefined, not 1.
    assert math.isnan(s.cohen_kappa) and math.isnan(s.fleiss_kappa)
    assert math.isnan(s.krippendorff_alpha)


def test_fleiss_uses_only_the_items_with_the_most_ratings() -> None:
    full = [
        (i, r, v)
        for i, vals in enumerate(["xxx", "xyy", "yyy"])
        for r, v in zip("abc", vals, strict=True)
    ]
    extra = [(9, "a", "x"), (9, "b", "y")]  # two ratings only: left out of Fleiss
    assert fleiss_kappa(frame(full + extra)) == fleiss_kappa(frame(full))
    # Raters need not be the same people: relabelling who rated item 2 changes nothing.
    moved = [(i, r if i != 2 else r.upper(), v) for i, r, v in full]
    assert fleiss_kappa(frame(moved)) == fleiss_kappa(frame(full))
    # Fewer than two items with the largest count: undefined.
    assert math.isnan(fleiss_kappa(frame([*full[:3], (5, "a", "x"), (5, "b", "x")])))


def test_cohen_only_for_exactly_two_raters_over_shared_items() -> None:
    rows = [(1, "a", 1), (1, "b", 1), (2, "a", 2), (2, "b", 1), (3, "a", 2), (3, "b", 2)]
    two = agreement_summary(frame([*rows, (4, "a", 1)]))  # item 4 has no pair: left out
    assert two.cohen_kappa == pytest.approx(cohen_kappa([1, 2, 2], [1, 1, 2]))
    three = agreement_summary(frame([*rows, (1, "c", 1)]))
    assert math.isnan(three.cohen_kappa)


def test_cohen_kappa_accepts_strings_and_numbers_for_the_same_value() -> None:
    assert cohen_kappa(["1", "2", None], [1, 2, 2]) == 1.0
    assert cohen_kappa(["a", "b", "a"], ["a", "b", "b"], labels=["a", "b", "c"]) == pytest.approx(
        0.4
    )
    with pytest.raises(AgreementDataError, match="not among the labels"):
        cohen_kappa(["a", "z"], ["a", "b"], labels=["a", "b"])
    with pytest.raises(AgreementDataError, match="aligned"):
        cohen_kappa([1, 2], [1])


def test_percent_agreement_is_a_mean_over_items_of_pair_shares() -> None:
    # item 1: 3 raters, pairs (x,x) agree, (x,y) twice disagree -> 1/3; item 2: 1; item 3: alone.
    rows = [(1, "a", "x"), (1, "b", "x"), (1, "c", "y"), (2, "a", "z"), (2, "b", "z")]
    assert percent_agreement(frame([*rows, (3, "a", "q")])) == pytest.approx((1 / 3 + 1) / 2)


# ----------------------------------------------------------------------------- intervals


def _simulated(n_items: int = 60, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 6, n_items)
    rows = []
    for i, t in enumerate(truth):
        for r in ("ada", "bob", "cy"):
            noisy = int(np.clip(t + rng.integers(-1, 2) * (rng.random() < 0.4), 1, 5))
            rows.append((f"item{i}", r, noisy))
    return frame(rows)


def test_bootstrap_intervals_are_seeded_and_bracket_the_estimate() -> None:
    data = _simulated()
    a = agreement_summary(data, level="ordinal", ci=True, n_resamples=300, seed=7)
    b = agreement_summary(data, level="ordinal", ci=True, n_resamples=300, seed=7)
    c = agreement_summary(data, level="ordinal", ci=True, n_resamples=300, seed=8)
    iv = a.intervals["krippendorff_alpha"]
    assert iv == b.intervals["krippendorff_alpha"]
    assert iv != c.intervals["krippendorff_alpha"]
    assert iv.low < a.krippendorff_alpha < iv.high and iv.n == 60
    assert set(a.intervals) == {
        "krippendorff_alpha",
        "fleiss_kappa",
        "gwet_ac1",
        "percent_agreement",
    }
    json_ci = a.to_dict()["confidence_intervals"]["gwet_ac1"]
    assert json_ci["low"] == a.intervals["gwet_ac1"].low


def test_intervals_narrow_with_more_items() -> None:
    small = agreement_summary(_simulated(30), ci=True, n_resamples=300).intervals
    large = agreement_summary(_simulated(600), ci=True, n_resamples=300).intervals
    width = lambda iv: iv.high - iv.low  # noqa: E731
    assert width(large["krippendorff_alpha"]) < width(small["krippendorff_alpha"])


def test_perfect_agreement_has_a_point_interval() -> None:
    rows = [(i, r, i % 3) for i in range(20) for r in "ab"]
    iv = agreement_summary(frame(rows), ci=True, n_resamples=200).intervals["cohen_kappa"]
    assert iv.low == iv.high == 1.0


# ----------------------------------------------------------------------------- grouping


def test_agreement_by_dimension_and_rubric_version_equals_each_group_alone() -> None:
    data = _simulated(40)
    n = len(data)
    data["dimension"] = ["quality", "style"] * (n // 2)
    data["rubric_version"] = [1] * (n // 2) + [2] * (n - n // 2)
    table = agreement_by(data, level="ordinal", ci=True, n_resamples=100, seed=1)
    assert len(table) == 4
    for _, row in table.iterrows():
        part = data[(data.dimension == row.dimension) & (data.rubric_version == row.rubric_version)]
        alone = agreement_summary(part, level="ordinal", ci=True, n_resamples=100, seed=1)
        assert row.krippendorff_alpha == alone.krippendorff_alpha
        assert row.krippendorff_alpha_low == alone.intervals["krippendorff_alpha"].low
        assert row.n_items == alone.n_items
    # Without the grouping columns there is one group.
    assert len(agreement_by(_simulated(10), ci=False)) == 1


def test_pairwise_agreement_matches_cohen_on_each_pairs_shared_items() -> None:
    rows = [
        (1, "a", "x"), (1, "b", "x"), (1, "c", "y"),
        (2, "a", "y"), (2, "b", "x"),
        (3, "a", "y"), (3, "b", "y"), (3, "c", "y"),
        (4, "d", "x"),
    ]  # fmt: skip
    table = pairwise_agreement(frame(rows), ci=False)
    got = {(r.rater_a, r.rater_b): r for r in table.itertuples()}
    assert set(got) == {("a", "b"), ("a", "c"), ("b", "c")}  # d shares nothing: left out
    ab = got[("a", "b")]
    assert ab.n_items == 3 and ab.percent_agreement == pytest.approx(2 / 3)
    assert ab.cohen_kappa == pytest.approx(cohen_kappa(["x", "y", "y"], ["x", "x", "y"]))
    assert got[("b", "c")].n_items == 2


def test_consensus_agreement_leaves_the_rater_out() -> None:
    rows = [
        (1, "a", "x"), (1, "b", "x"), (1, "c", "x"),
        (2, "a", "y"), (2, "b", "x"), (2, "c", "x"),
        (3, "a", "y"), (3, "b", "y"), (3, "c", "x"),
        (4, "a", "x"), (4, "b", "y"),
    ]  # fmt: skip
    table = consensus_agreement(frame(rows), ci=False).set_index("rater")
    # a: item1 x==x, item2 y vs x, item3 y vs tie(y,x) -> left out, item4 x vs y.
    assert table.loc["a", "n_items"] == 3
    assert table.loc["a", "agreement"] == pytest.approx(1 / 3)
    # c: item1 x==x, item2 x vs tie -> out, item3 x vs y.
    assert table.loc["c", "n_items"] == 2 and table.loc["c", "agreement"] == 0.5
    assert math.isnan(table.loc["a", "mean_abs_diff"])  # labels have no distance


def test_consensus_on_numbers_uses_median_or_mean() -> None:
    rows = [(1, "a", 1), (1, "b", 2), (1, "c", 4), (2, "a", 3), (2, "b", 3), (2, "c", 3)]
    ordinal = consensus_agreement(frame(rows), level="ordinal", ci=False).set_index("rater")
    # a on item 1: others (2, 4) have no single median -> left out; item 2 agrees.
    assert ordinal.loc["a", "n_items"] == 1 and ordinal.loc["a", "agreement"] == 1.0
    interval = consensus_agreement(frame(rows), level="interval", ci=True, n_resamples=50)
    a = interval.set_index("rater").loc["a"]
    assert a.n_items == 2 and a.mean_abs_diff == pytest.approx((3 - 1 + 0) / 2)
    assert a.mean_abs_diff_low <= a.mean_abs_diff <= a.mean_abs_diff_high


# ----------------------------------------------------------------------------- CSV


def test_csv_reader_tolerates_bom_case_spaces_blank_lines_and_extra_columns() -> None:
    text = "\ufeff Item , RATER,value,note\n\n1, a ,yes,first\n1,b, yes ,\n"
    df = read_ratings_csv(io.StringIO(text))
    assert df[["item", "rater", "value"]].values.tolist() == [["1", "a", "yes"], ["1", "b", "yes"]]
    assert df.line.tolist() == [3, 4]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("item,rater\n1,a\n", 1, "lacks column 'value'"),
        ("item,rater,value\n1,a\n", 2, "expected 3 fields"),
        ("item,rater,value\n1,a,1\n2,b,\n", 3, "empty value"),
        ("item,rater,value\n1,a,1\n\n1, a,2\n", 4, r"rated twice.*first at line 2"),
        ("", 1, "no header"),
    ],
)
def test_csv_reader_names_the_bad_line(text: str, line: int, message: str) -> None:
    with pytest.raises(AgreementDataError, match=message) as info:
        read_ratings_csv(io.StringIO(text))
    assert info.value.line == line
    assert str(info.value).startswith(f"line {line}:")


def test_csv_reader_reports_bad_encoding_by_line() -> None:
    with pytest.raises(AgreementDataError, match="line 3: not UTF-8"):
        read_ratings_csv(b"item,rater,value\n1,a,x\n2,a,\xff\n")


def test_clean_and_quoted_files_read_the_same() -> None:
    clean = "item,rater,value\n1,a,4\n1,b,5\n2,a,3\n"
    quoted = 'item,rater,value\n"1",a,4\n1,"b",5\n2,a,"3"\n'
    spaced = "item , rater,value\n1, a,4\n1 ,b,5 \n2,a,3\n"
    frames = [read_ratings_csv(io.StringIO(t)) for t in (clean, quoted, spaced)]
    for other in frames[1:]:
        pd.testing.assert_frame_equal(frames[0], other)
    assert frames[0].line.tolist() == [2, 3, 4]
    assert frames[0].value.dtype == np.float64


def test_quoted_line_breaks_keep_line_numbers() -> None:
    text = 'item,rater,value\n1,a,"very\ngood"\n1,b,"ok, fine"\n1,b,x\n'
    with pytest.raises(AgreementDataError, match="rated twice") as info:
        read_ratings_csv(io.StringIO(text))
    assert info.value.line == 5
    df = read_ratings_csv(io.StringIO(text.rsplit("1,b,x\n", 1)[0]))
    assert df.value.tolist() == ["very\ngood", "ok, fine"] and df.line.tolist() == [2, 4]


def test_no_ratings_at_all_is_all_undefined_not_an_error() -> None:
    empty = frame([])
    out = agreement_summary(empty, ci=True).to_dict()
    assert out["n_items"] == 0 and out["n_raters"] == 0
    stats = ("krippendorff_alpha", "fleiss_kappa", "cohen_kappa", "gwet_ac1", "percent_agreement")
    assert all(out[name] is None for name in stats)
    for table in (agreement_by(empty), pairwise_agreement(empty), consensus_agreement(empty)):
        assert table.empty or (table["n_items"] == 0).all()
