"""``llmkit annotate agreement FILE.csv --level LEVEL --json``, as issue #9 spells it."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmkit.cli._annotate_agreement import agreement

krippendorff = pytest.importorskip("krippendorff")
sklearn_metrics = pytest.importorskip("sklearn.metrics")
inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
irrcac_raw = pytest.importorskip("irrCAC.raw")

REQUIRED = {
    "krippendorff_alpha",
    "fleiss_kappa",
    "cohen_kappa",
    "gwet_ac1",
    "percent_agreement",
    "n_items",
    "n_raters",
}


def run(args: list[str], stdin: str | bytes | None = None) -> Any:
    return CliRunner().invoke(agreement, args, input=stdin)


def write(tmp_path: Path, text: str | bytes, name: str = "ratings.csv") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def _ref(fn: Any, *args: Any, **kwargs: Any) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(fn(*args, **kwargs))


def test_json_keys_and_values_equal_the_reference_packages(tmp_path: Path) -> None:
    # Three raters, missing ratings, one item rated once: every definition at work.
    grid = [
        [1, 2, 2],
        [3, 3, 3],
        [4, 4, 5],
        [1, 1, None],
        [2, None, 2],
        [5, 5, 5],
        [2, 3, 3],
        [None, None, 4],
    ]
    lines = ["item,rater,value"]
    lines += [
        f"it{i},r{j},{v}" for i, row in enumerate(grid) for j, v in enumerate(row) if v is not None
    ]
    path = write(tmp_path, "\n".join(lines) + "\n")
    for level in ("nominal", "ordinal", "interval", "ratio"):
        result = run([path, "--level", level, "--json"])
        assert result.exit_code == 0, result.output
        out = json.loads(result.output)
        assert set(out) >= REQUIRED
        data = np.array([[np.nan if v is None else v for v in row] for row in grid], float)
        ref = krippendorff.alpha(data.T, level_of_measurement=level)
        assert abs(out["krippendorff_alpha"] - ref) < 1e-9
    assert out["n_items"] == 8 and out["n_raters"] == 3
    assert out["cohen_kappa"] is None  # three raters
    full = [row for row in grid if None not in row]  # Fleiss: items with 3 ratings
    table, _ = inter_rater.aggregate_raters(np.array(full))
    assert abs(out["fleiss_kappa"] - _ref(inter_rater.fleiss_kappa, table)) < 1e-9
    est = irrcac_raw.CAC(pd.DataFrame(data), digits=15).gwet()["est"]
    assert abs(out["gwet_ac1"] - est["coefficient_value"]) < 1e-9
    assert abs(out["percent_agreement"] - est["pa"]) < 1e-9


def test_two_raters_give_cohen_over_shared_items_with_weighted_keys(tmp_path: Path) -> None:
    a = ["good", "bad", "good", "ok", "ok", "bad", "good"]
    b = ["good", "bad", "ok", "ok", "good", "bad", None]
    rows = [f"{i},ann,{v}" for i, v in enumerate(a)]
    rows += [f"{i},bea,{v}" for i, v in enumerate(b) if v is not None]
    result = run([write(tmp_path, "item,rater,value\n" + "\n".join(rows)), "--json"])
    out = json.loads(result.output)
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if y is not None]
    xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
    assert abs(out["cohen_kappa"] - sklearn_metrics.cohen_kappa_score(xs, ys)) < 1e-9
    lin = sklearn_metrics.cohen_kappa_score(xs, ys, weights="linear")
    quad = sklearn_metrics.cohen_kappa_score(xs, ys, weights="quadratic")
    assert abs(out["cohen_kappa_linear"] - lin) < 1e-9
    assert abs(out["cohen_kappa_quadratic"] - quad) < 1e-9
    assert out["n_items"] == 7 and out["values"] == "labels"


def test_stdin_bom_header_case_and_whitespace(tmp_path: Path) -> None:
    text = "\ufeff ITEM , Rater , VALUE \r\n 1 , x , 3 \r\n1,y,3\r\n2,x,1\r\n2,y, 2\r\n\r\n"
    from_stdin = run(["-", "--level", "ordinal", "--json"], stdin=text.encode("utf-8"))
    assert from_stdin.exit_code == 0, from_stdin.output
    from_file = run([write(tmp_path, text), "--level", "ordinal", "--json"])
    assert from_stdin.output == from_file.output
    out = json.loads(from_stdin.output)
    assert out["n_items"] == 2 and out["values"] == "numbers"


def test_nan_never_appears_in_the_json(tmp_path: Path) -> None:
    result = run([write(tmp_path, "item,rater,value\n1,a,x\n1,b,x\n2,a,x\n"), "--json"])
    assert result.exit_code == 0
    assert "NaN" not in result.output
    out = json.loads(result.output)
    assert out["krippendorff_alpha"] is None and out["fleiss_kappa"] is None
    assert out["percent_agreement"] == 1.0


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("item,rater,value\n1,a,1\n1,a,2\n", "line 3: item '1' rated twice by rater 'a'"),
        ("item,rater,value\n1,a,1\n2,b\n", "line 3: expected 3 fields"),
        ("item,rater,value\n1,a,1\n2,,1\n", "line 3: empty rater"),
        ("item,who,value\n1,a,1\n", "line 1: header lacks column 'rater'"),
        ("item,rater,value\n", "no ratings"),
    ],
)
def test_bad_rows_exit_2_naming_the_line(tmp_path: Path, text: str, needle: str) -> None:
    result = run([write(tmp_path, text), "--json"])
    assert result.exit_code == 2
    assert needle in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_misuse_exits_2(tmp_path: Path) -> None:
    labels = write(tmp_path, "item,rater,value\n1,a,x\n1,b,y\n")
    assert run([labels, "--level", "interval", "--json"]).exit_code == 2
    assert run([labels, "--level", "cardinal"]).exit_code == 2
    assert run([str(tmp_path / "absent.csv")]).exit_code == 2


def test_table_and_intervals(tmp_path: Path) -> None:
    rows = [f"{i},{r},{(i + (r == 'c' and i % 4 == 0)) % 3}" for i in range(40) for r in "abc"]
    path = write(tmp_path, "item,rater,value\n" + "\n".join(rows))
    table = run([path, "--ci", "--resamples", "200"])
    assert table.exit_code == 0 and "Krippendorff" in table.output and "95% CI" in table.output
    out = json.loads(run([path, "--json", "--ci", "--resamples", "200", "--seed", "3"]).output)
    ci = out["confidence_intervals"]["krippendorff_alpha"]
    assert ci["low"] <= out["krippendorff_alpha"] <= ci["high"] and ci["n"] == 40
    assert not math.isnan(ci["low"])


@pytest.mark.slow
def test_through_python_dash_m_llmkit(tmp_path: Path) -> None:
    path = write(tmp_path, "item,rater,value\n1,a,1\n1,b,2\n2,a,2\n2,b,2\n3,a,1\n3,b,1\n")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "llmkit",
            "annotate",
            "agreement",
            path,
            "--level",
            "nominal",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert abs(out["cohen_kappa"] - sklearn_metrics.cohen_kappa_score([1, 2, 1], [2, 2, 1])) < 1e-9
    bad = subprocess.run(
        [sys.executable, "-m", "llmkit", "annotate", "agreement", "-", "--json"],
        input="item,rater,value\n1,a,\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and "line 2: empty value" in bad.stderr
    assert bad.stderr.count("\n") == 1


def test_categories_fix_the_scale_and_name_a_stray_value(tmp_path: Path) -> None:
    text = "item,rater,value\n1,a,low\n1,b,mid\n2,a,high\n2,b,high\n3,a,low\n3,b,high\n"
    path = write(tmp_path, text)
    scale = ["low", "mid", "high", "extreme"]
    out = json.loads(
        run([path, "--level", "ordinal", "--categories", ",".join(scale), "--json"]).output
    )
    a, b = ["low", "high", "low"], ["mid", "high", "high"]
    ref = sklearn_metrics.cohen_kappa_score(a, b, labels=scale, weights="quadratic")
    assert abs(out["cohen_kappa_quadratic"] - ref) < 1e-9
    # Sorted order would put "high" first: the order given is the one used.
    sorted_out = json.loads(run([path, "--level", "ordinal", "--json"]).output)
    assert sorted_out["cohen_kappa_quadratic"] != out["cohen_kappa_quadratic"]
    bad = run([path, "--categories", "low,high", "--json"])
    assert bad.exit_code == 2 and "line 3: value 'mid' is not among the categories" in bad.output
    numbers = run([path, "--categories", "1,2,3", "--json"])
    assert (
        numbers.exit_code == 2
        and "categories are numbers but the values are labels" in numbers.output
    )


_CELLS = st.sampled_from(["1", "2", " 3 ", "x", "", "nan", '"a,b"', '"', "1.5", "\ufeff", "é"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(_CELLS, min_size=1, max_size=4), max_size=12),
    st.sampled_from(["item,rater,value", "Item,Rater,Value,x", "item,value", ""]),
    st.sampled_from(["nominal", "ordinal", "interval", "ratio"]),
)
def test_any_input_exits_0_with_json_or_2_with_one_line(
    rows: list[list[str]], header: str, level: str
) -> None:
    text = "\n".join([header, *(",".join(r) for r in rows)])
    result = CliRunner().invoke(agreement, ["-", "--level", level, "--json"], input=text)
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if result.exit_code == 0:
        out = json.loads(result.output)
        assert set(out) >= REQUIRED and "NaN" not in result.output
    else:
        assert result.output.startswith("error:") and "Traceback" not in result.output
