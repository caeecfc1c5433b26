"""Prompts × models: cells with their own cassettes, the side-by-side table, --compare A B."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from llmkit.engine import EngineHandle
from llmkit.evals import SuiteError, load_suite, matrix_columns

from .helpers import llmkit

GOOD, WORSE, SIM, LARGE = "good", "worse", "llmkit-sim", "llmkit-sim-large"


def _templates(suite: Path) -> None:
    """good.yaml: the suite's own prompt as a template; worse.yaml: no YAML asked, no format."""
    data = yaml.safe_load(suite.read_text())
    good = {"name": "ticket", "version": "1", **data["prompt"]}
    (suite.parent / "good.yaml").write_text(yaml.safe_dump(good, sort_keys=False))
    worse = dict(good, version="2", include_format_instructions=False)
    worse["messages"] = [
        {"role": "system", "content": "You turn customer support messages into tickets."},
        {"role": "user", "content": "Write the ticket for this customer message:\n{{message}}"},
    ]
    (suite.parent / "worse.yaml").write_text(yaml.safe_dump(worse, sort_keys=False))


MATRIX = f"""matrix:
  prompts: [good.yaml, {{label: {WORSE}, prompt: worse.yaml}}]
  models: [{SIM}, {LARGE}]
prices:
  {SIM}: {{input: 0.1, output: 0.4}}
"""


@pytest.fixture
def matrix_suite(suite_copy: Path, make_engine: Callable[..., EngineHandle]) -> Path:
    _templates(suite_copy)
    text = suite_copy.read_text().replace("min_pass_rate: 1.0\n", "min_pass_rate: 0\n" + MATRIX)
    suite_copy.write_text(text)
    engine = make_engine(aliases=(LARGE,))
    ran = llmkit("eval", str(suite_copy), "--mode", "record", "--base-url", engine.base_url)
    assert ran.code in (0, 1), ran.err
    return suite_copy


@pytest.mark.slow
def test_matrix_cells_have_their_own_cassettes_and_a_side_by_side_table(
    matrix_suite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = load_suite(matrix_suite)
    names = [c.name for c in matrix_columns(suite)]
    assert names == [f"{GOOD}@{SIM}", f"{GOOD}@{LARGE}", f"{WORSE}@{SIM}", f"{WORSE}@{LARGE}"]
    for name in names:
        assert len(list((suite.cassette_dir / name).glob("*.yaml"))) == len(suite.cases)
    out, junit, md = tmp_path / "out", tmp_path / "j.xml", tmp_path / "r.md"
    ran = llmkit(
        "eval",
        str(matrix_suite),
        "--json",
        "-o",
        str(out),
        "--junit",
        str(junit),
        "--markdown",
        str(md),
    )
    assert ran.code == 0, ran.err  # min_pass_rate 0: no column fails its gate
    doc = json.loads(ran.out)
    assert doc["format"] == "llmkit.eval.matrix/1"
    cols = {c["name"]: c for c in doc["columns"]}
    assert cols[f"{GOOD}@{SIM}"]["pass_rate"] == 1.0
    assert cols[f"{WORSE}@{SIM}"]["pass_rate"] < 1.0
    for c in cols.values():
        assert c["p50_ms"] is not None and c["p95_ms"] >= c["p50_ms"] and c["tokens"] > 0
    assert cols[f"{GOOD}@{SIM}"]["cost_usd"] > 0
    assert cols[f"{GOOD}@{LARGE}"]["cost_usd"] is None  # no price: unknown, not zero
    assert any("no price for model 'llmkit-sim-large'" in p for p in doc["problems"])
    assert json.loads((out / "matrix.json").read_text())["columns"] == doc["columns"]
    per_col = json.loads((out / f"{WORSE}@{SIM}" / "summary.json").read_text())
    assert per_col["column"] == {"name": f"{WORSE}@{SIM}", "prompt": WORSE, "model": SIM}
    suites = [s.get("name") for s in ET.parse(junit).getroot().iter("testsuite")]
    assert suites == [f"llmkit.eval.support_ticket.{n}" for n in names]
    report = md.read_text()
    assert "| column | pass rate | mean score | p50 ms | p95 ms | tokens | cost $ |" in report
    monkeypatch.setenv("COLUMNS", "120")
    table = llmkit("eval", str(matrix_suite))
    assert all(n in table.out for n in names) and "unknown" in table.out


@pytest.mark.slow
def test_compare_two_columns_uses_the_paired_tests_and_exit_codes(matrix_suite: Path) -> None:
    ran = llmkit(
        "eval", str(matrix_suite), "--compare", f"{GOOD}@{SIM}", f"{WORSE}@{SIM}", "--json"
    )
    assert ran.code == 1, ran.err
    doc = json.loads(ran.out)
    assert doc["compare"] == [f"{GOOD}@{SIM}", f"{WORSE}@{SIM}"]
    comparison = doc["comparison"]
    assert comparison["regressed"] and "cases.pass" in comparison["regressions"]
    assert comparison["shared_cases"] == 11
    assert f"regression of {WORSE}@{SIM}" in ran.err
    # the other way round is an improvement: exit 0
    ran = llmkit("eval", str(matrix_suite), "--compare", f"{WORSE}@{SIM}", f"{GOOD}@{SIM}")
    assert ran.code == 0, ran.err
    assert "no regression" in ran.out
    # a label or model alone names a column when it names one
    ran = llmkit("eval", str(matrix_suite), "--compare", "nope", f"{GOOD}@{SIM}")
    assert ran.code == 2 and "'nope' is no column" in ran.err and f"{WORSE}@{LARGE}" in ran.err
    ran = llmkit("eval", str(matrix_suite), "--compare", GOOD, WORSE)
    assert ran.code == 2 and "names several columns" in ran.err


@pytest.mark.slow
def test_a_stale_cell_names_itself(matrix_suite: Path) -> None:
    worse = matrix_suite.parent / "worse.yaml"
    worse.write_text(worse.read_text().replace("Write the ticket for", "Write a ticket for"))
    ran = llmkit("eval", str(matrix_suite))
    assert ran.code == 2
    stale = [line for line in ran.err.splitlines() if "no recording" in line]
    assert stale and all(line.startswith(f"llmkit eval: cell {WORSE}@") for line in stale)
    assert {line.split(":")[1] for line in stale} == {
        f" cell {WORSE}@{SIM}",
        f" cell {WORSE}@{LARGE}",
    }


def test_matrix_errors(suite_copy: Path) -> None:
    _templates(suite_copy)
    text = suite_copy.read_text()
    bad = text.replace("min_pass_rate: 1.0\n", "min_pass_rate: 1.0\nmatrix: {models: [a, a]}\n")
    suite_copy.write_text(bad)
    with pytest.raises(SuiteError, match="a model is named twice"):
        load_suite(suite_copy)
    needs = "min_pass_rate: 1.0\nmatrix: {prompts: [{label: x, prompt: extract_contact}]}\n"
    suite_copy.write_text(text.replace("min_pass_rate: 1.0\n", needs))
    with pytest.raises(SuiteError, match="prompt 'x' needs"):
        load_suite(suite_copy)
    suite_copy.write_text(text)
    ran = llmkit("eval", str(suite_copy), "--compare", "a", "b")
    assert ran.code == 2 and "needs a suite with a 'matrix:' block" in ran.err


def _matrix_doc(folder: Path) -> dict[str, object]:
    doc = json.loads((folder / "matrix.json").read_text())
    for summary in doc["summaries"].values():
        for key in ("created", "seconds", "suite_file"):
            summary.pop(key)
    doc.pop("suite_file")
    return doc


@pytest.mark.slow
def test_matrix_shards_merge_into_the_unsharded_matrix(matrix_suite: Path, tmp_path: Path) -> None:
    pair = [f"{GOOD}@{SIM}", f"{WORSE}@{SIM}"]
    full = llmkit("eval", str(matrix_suite), "-o", str(tmp_path / "full"), "--compare", *pair)
    assert full.code == 1, full.err
    for i in (1, 2, 3):
        part = llmkit("eval", str(matrix_suite), "--shard", f"{i}/3", "-o", str(tmp_path / f"s{i}"))
        assert part.code in (0, 1), part.err
        doc = json.loads((tmp_path / f"s{i}" / "matrix.json").read_text())
        assert doc["shard"] == {"index": i, "count": 3, "tags": []}
    shards = [str(tmp_path / f"s{i}") for i in (3, 1, 2)]
    merged = llmkit(
        "eval",
        "merge",
        *shards,
        "-o",
        str(tmp_path / "merged"),
        "--compare",
        *pair,
        "--junit",
        str(tmp_path / "m.xml"),
    )
    assert merged.code == full.code, merged.err
    assert _matrix_doc(tmp_path / "merged") == _matrix_doc(tmp_path / "full")
    ran = llmkit("eval", "merge", *shards[:2])
    assert ran.code == 2 and "missing shard(s) 2/3" in ran.err
