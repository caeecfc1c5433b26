"""Cost: a price table per model, cost per case and per suite in every output, max_cost."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from llmkit.evals import SuiteError, load_suite
from llmkit.evals._cassettes import cassette_path, load_cassette

from .helpers import llmkit

PRICES = "prices:\n  llmkit-sim: {input: 0.15, output: 0.60}\n"


def _with(suite: Path, text: str) -> Path:
    suite.write_text(
        suite.read_text().replace("min_pass_rate: 1.0\n", f"min_pass_rate: 1.0\n{text}")
    )
    return suite


def _expected_costs(suite: Path) -> dict[str, float]:
    """Per case: recorded prompt and output tokens (all repeats) at the test's prices."""
    loaded = load_suite(suite)
    out = {}
    for case in loaded.cases:
        meta = load_cassette(cassette_path(loaded.cassette_dir, case.id))["metadata"]["llmkit"]
        calls = [t for t in meta["timings"] if t.get("phase", "case") == "case"]
        prompt = sum(t["prompt_tokens"] for t in calls)
        output = sum(t["output_tokens"] for t in calls)
        out[case.id] = (prompt * 0.15 + output * 0.60) / 1e6
    return out


def test_cost_per_case_and_suite_in_json_junit_markdown_and_table(
    suite_copy: Path, tmp_path: Path
) -> None:
    suite = _with(suite_copy, PRICES)
    expected = _expected_costs(suite)
    md, junit = tmp_path / "r.md", tmp_path / "j.xml"
    ran = llmkit("eval", str(suite), "--json", "--junit", str(junit), "--markdown", str(md))
    assert ran.code == 0, ran.err
    summary = json.loads(ran.out)
    for case_id, usd in expected.items():
        assert summary["per_case"][case_id]["cost_usd"] == pytest.approx(usd)
    assert summary["cost"]["usd"] == pytest.approx(sum(expected.values()))
    assert summary["cost"]["price"] == {"input": 0.15, "output": 0.6, "cached_input": None}
    assert summary["cost"]["unpriced_models"] == []
    root = ET.parse(junit).getroot()
    props = {
        case.get("name"): case.find("properties/property").get("value")  # type: ignore[union-attr]
        for case in root.iter("testcase")
    }
    assert float(props["repeat-sampling"]) == pytest.approx(expected["repeat-sampling"])
    assert f"cost: ${summary['cost']['usd']:.6f} for 11 case(s)" in md.read_text()
    table = llmkit("eval", str(suite))
    assert f"cost: ${summary['cost']['usd']:.6f}" in table.out
    # repeats count: the repeated case costs about three times one call
    assert expected["repeat-sampling"] > 2 * min(expected.values())


def test_unknown_model_is_reported_never_zero(suite_copy: Path) -> None:
    suite = _with(suite_copy, "prices:\n  other-model: {input: 1, output: 2}\n")
    ran = llmkit("eval", str(suite), "--json")
    assert ran.code == 0
    summary = json.loads(ran.out)
    assert summary["cost"]["usd"] is None
    assert summary["cost"]["unpriced_models"] == ["llmkit-sim"]
    assert all(v["cost_usd"] is None for v in summary["per_case"].values())
    ran = llmkit("eval", str(suite))
    assert "cost: unknown: no price for model 'llmkit-sim'" in ran.out


def test_max_cost_gates_and_an_unpriced_gate_is_an_error(suite_copy: Path) -> None:
    text = suite_copy.read_text()
    suite = _with(suite_copy, PRICES + "max_cost: 0.000001\n")
    ran = llmkit("eval", str(suite))
    assert ran.code == 1
    assert "above max_cost $1e-06" in ran.err
    suite.write_text(text)
    suite = _with(suite, PRICES + "max_cost: 1\n")
    assert llmkit("eval", str(suite)).code == 0
    suite.write_text(text)
    suite = _with(suite, "prices:\n  other: {input: 1, output: 1}\nmax_cost: 1\n")
    ran = llmkit("eval", str(suite))
    assert ran.code == 2 and "cannot check max_cost: no price for model 'llmkit-sim'" in ran.err


def test_shared_price_file_and_its_errors(suite_copy: Path, tmp_path: Path) -> None:
    shared = tmp_path / "prices.yaml"
    shared.write_text("prices:\n  llmkit-sim: {input: 1, output: 2, cached_input: 0.5}\n")
    text = suite_copy.read_text()
    suite = _with(suite_copy, f"prices: {shared}\n")
    assert load_suite(suite).prices["llmkit-sim"].cached_input == 0.5
    shared.write_text("llmkit-sim: {input: -1, output: 2}\n")
    with pytest.raises(SuiteError) as info:
        load_suite(suite)
    assert info.value.path == str(shared) and info.value.field == "prices.llmkit-sim.input"
    suite.write_text(text)
    suite = _with(suite, "prices:\n  llmkit-sim: {input: 1, outptu: 2}\n")
    with pytest.raises(SuiteError) as info:
        load_suite(suite)
    assert info.value.line is not None and "unknown price 'outptu'" in str(info.value)
    suite.write_text(text)
    suite = _with(suite, "max_cost: -3\n")
    with pytest.raises(SuiteError, match="max_cost"):
        load_suite(suite)


def test_cached_input_priced_apart() -> None:
    from llmkit.evals import Price
    from llmkit.evals._cost import case_cost

    timing = {"calls": 1, "prompt_tokens": 1000, "cached_tokens": 400, "output_tokens": 100}
    usd = case_cost(timing, Price(input=1.0, output=4.0, cached_input=0.25))
    assert usd == pytest.approx((600 * 1.0 + 400 * 0.25 + 100 * 4.0) / 1e6)
    assert case_cost({"calls": 1, "prompt_tokens": None, "output_tokens": 5}, Price(1, 1)) is None
    assert case_cost({"calls": 0}, Price(1, 1)) is None


def test_cached_tokens_reported_by_the_server_reach_the_case_timing() -> None:
    from llmkit.evals._cassettes import case_timing

    calls = [
        {"e2e_ms": 5, "output_tokens": 10, "prompt_tokens": 100, "cached_tokens": 60},
        {"e2e_ms": 5, "output_tokens": 10, "prompt_tokens": 100, "cached_tokens": 0},
    ]
    timing = case_timing(calls)
    assert timing["cached_tokens"] == 60 and timing["prompt_tokens"] == 200
    assert "cached_tokens" not in case_timing([{"e2e_ms": 1, "prompt_tokens": 5}])


def test_the_recorder_keeps_cached_tokens_the_server_reports() -> None:
    from llmkit.evals._transport import _cached_tokens

    assert _cached_tokens({"prompt_tokens_details": {"cached_tokens": 64}}) == {"cached_tokens": 64}
    assert _cached_tokens({"prompt_tokens": 5}) == {}
    assert _cached_tokens({"prompt_tokens_details": None}) == {}
