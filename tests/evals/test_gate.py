"""One gate whatever runs it: baselines that cannot be overwritten by accident, the suite's
shape checked, and the pytest plugin reaching the CLI's verdict and exit status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmkit import __version__
from llmkit.cli._demo_eval import worsen_suite
from llmkit.engine import EngineHandle

from .helpers import llmkit
from .test_reports import _pytest

PROBE = """  - id: wrong-size
    tags: [returns]
    scorers: [{type: regex, name: probe, path: order_id, pattern: 'PATTERN'}]
"""


def _probe(suite: Path, pattern: str, *, min_pass_rate: str = "1.0", file: bool = False) -> None:
    """Give case wrong-size a scorer of its own (passing or not, by ``pattern``)."""
    text = suite.read_text()
    if "name: probe" not in text:
        text = text.replace("  - id: wrong-size\n    tags: [returns]\n", PROBE)
    text = text.replace("pattern: 'PATTERN'", f"pattern: '{pattern}'")
    for old in ("'^.*$'", "'^NOPE$'"):
        text = text.replace(f"pattern: {old}", f"pattern: '{pattern}'")
    text = text.replace("min_pass_rate: 1.0", f"min_pass_rate: {min_pass_rate}")
    if file and "file: base.json" not in text:
        text = text.replace("baseline:\n", "baseline:\n  file: base.json\n")
    suite.write_text(text)


def test_update_baseline_refuses_a_regression_unless_accepted(
    suite_copy: Path, tmp_path: Path, engine: EngineHandle
) -> None:
    base = tmp_path / "base.json"
    first = llmkit("eval", str(suite_copy), "--baseline", str(base), "--update-baseline")
    assert first.code == 0, first.err
    assert f"wrote the baseline {base}" in first.out
    written = json.loads(base.read_text())
    assert written["llmkit_version"] == __version__
    assert written["suite_shape"]["suite"] == "support_ticket"
    assert set(written["fingerprints"]) == {"suite", "cassettes"}
    assert written["fingerprints"]["cassettes"]
    # a broken prompt with min_pass_rate 0: the pass rate alone would let it through
    worse = worsen_suite(suite_copy, tmp_path / "worse")
    worse.write_text(worse.read_text().replace("min_pass_rate: 1.0", "min_pass_rate: 0"))
    rec = llmkit("eval", str(worse), "--mode", "record", "--base-url", engine.base_url)
    assert rec.code == 0, rec.err
    before = base.read_text()
    refused = llmkit("eval", str(worse), "--baseline", str(base), "--update-baseline")
    assert refused.code == 1
    assert "not writing the baseline" in refused.err and "--accept-regression" in refused.err
    assert "REGRESSION" in refused.out
    assert base.read_text() == before
    accepted = llmkit(
        "eval", str(worse), "--baseline", str(base), "--update-baseline", "--accept-regression"
    )
    assert accepted.code == 0, accepted.err
    assert f"wrote the baseline {base}" in accepted.out and "(was 100.0%)" in accepted.out
    assert json.loads(base.read_text())["pass_rate"] < 1.0
    assert llmkit("eval", str(worse), "--accept-regression").code == 2


def test_a_baseline_of_another_suite_shape_exits_2(suite_copy: Path, tmp_path: Path) -> None:
    base = tmp_path / "base.json"
    assert llmkit("eval", str(suite_copy), "--baseline", str(base), "--update-baseline").code == 0
    text = suite_copy.read_text()
    suite_copy.write_text(text.replace("  - schema_valid\n", "", 1))
    ran = llmkit("eval", str(suite_copy), "--baseline", str(base))
    assert ran.code == 2
    assert "written for suite 'support_ticket' with scorers" in ran.err
    assert "schema_valid" in ran.err
    suite_copy.write_text(text.replace("name: support_ticket", "name: other_suite", 1))
    renamed = suite_copy.parent / "other.eval.yaml"
    suite_copy.rename(renamed)
    cassettes = suite_copy.parent.parent / "cassettes"
    (cassettes / "support_ticket").rename(cassettes / "other_suite")
    ran = llmkit("eval", str(renamed), "--baseline", str(base))
    assert ran.code == 2 and "this run is suite 'other_suite'" in ran.err


def _both(suite: Path, cwd: Path) -> tuple[int, int, str]:
    cli = llmkit("eval", str(suite))
    test = _pytest(str(suite), cwd=cwd)
    return cli.code, test.returncode, test.stdout + test.stderr


@pytest.mark.parametrize("case", ["tolerated", "below_min_pass_rate", "inconclusive"])
def test_pytest_plugin_and_cli_reach_the_same_verdict(
    suite_copy: Path, tmp_path: Path, case: str
) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    if case == "tolerated":
        # one case of 11 fails, min_pass_rate 0.9 allows it: both pass (pytest: xfailed)
        _probe(suite_copy, "^NOPE$", min_pass_rate="0.9")
        cli, test, out = _both(suite_copy, tmp_path)
        assert (cli, test) == (0, 0), out
        assert "1 xfailed" in out and "11 passed" in out
    elif case == "below_min_pass_rate":
        _probe(suite_copy, "^NOPE$", min_pass_rate="1.0")
        cli, test, out = _both(suite_copy, tmp_path)
        assert (cli, test) == (1, 1), out
        assert "below min_pass_rate" in out and "2 failed" in out  # the case and the gate
    else:
        # the suite's own baseline (baseline: {file: ...}); then one case drops: a drop
        # beyond the threshold that no test can judge with one changed case
        _probe(suite_copy, "^.*$", min_pass_rate="0.9", file=True)
        assert llmkit("eval", str(suite_copy), "--update-baseline").code == 0
        assert (suite_copy.parent / "base.json").is_file()
        _probe(suite_copy, "^NOPE$", min_pass_rate="0.9", file=True)
        cli, test, out = _both(suite_copy, tmp_path)
        assert (cli, test) == (3, 3), out
        assert "INCONCLUSIVE" in out


def test_a_missing_recording_exits_2_from_both(suite_copy: Path, tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (suite_copy.parent.parent / "cassettes" / "support_ticket" / "wrong-size.yaml").unlink()
    cli, test, out = _both(suite_copy, tmp_path)
    assert (cli, test) == (2, 2), out
    assert "no recording" in out


def test_update_baseline_without_a_file_exits_2_before_running(suite_copy: Path) -> None:
    ran = llmkit("eval", str(suite_copy), "--update-baseline")
    assert ran.code == 2 and "--update-baseline needs --baseline FILE" in ran.err
    assert "cases passed" not in ran.out
