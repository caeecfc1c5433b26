"""CI outputs: JUnit XML, the Markdown summary, results JSONL, the pytest plugin, the demo."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console

from llmkit.cli._demo_eval import run_demo, worsen_suite

from .conftest import REPO
from .helpers import llmkit


def _break_two_cases(suite_copy: Path) -> None:
    # two cases get a scorer no recorded order id can pass
    text = suite_copy.read_text()
    for case in ("charged-twice", "wrong-size"):
        text = text.replace(
            f"  - id: {case}\n",
            f"  - id: {case}\n    scorers: [{{type: regex, name: strict_id, path: order_id, pattern: '^ORD-X'}}]\n",
        )
    suite_copy.write_text(text)


def test_junit_markdown_and_results_on_failure(suite_copy: Path, tmp_path: Path) -> None:
    _break_two_cases(suite_copy)
    junit, md, out = tmp_path / "junit.xml", tmp_path / "summary.md", tmp_path / "out"
    md.write_text("earlier step\n")
    ran = llmkit(
        "eval", str(suite_copy), "--junit", str(junit), "--summary", str(md), "-o", str(out)
    )
    summary = json.loads((out / "summary.json").read_text())
    failing = sorted(c for c, v in summary["per_case"].items() if not v["passed"])
    assert failing == ["charged-twice", "wrong-size"]
    assert ran.code == 1
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("tests") == "11"
    failed = sorted(
        tc.get("name") or "" for tc in suite.iter("testcase") if tc.find("failure") is not None
    )
    assert failed == failing
    for tc in suite.iter("testcase"):
        if tc.find("failure") is not None:
            assert "strict_id" in (tc.find("failure").get("message") or "")  # type: ignore[union-attr]
    text = md.read_text()
    assert text.startswith("earlier step\n## llmkit eval: support_ticket")
    assert f"{summary['passed_cases']}/11 cases passed" in text
    for case in failing:
        assert f"| {case} | strict_id[0] |" in text
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(lines) == summary["records"]
    assert {
        "suite",
        "case",
        "repeat",
        "scorer",
        "score",
        "passed",
        "detail",
        "stage",
        "repairs",
        "timing",
    } <= set(lines[0])
    assert (
        sum(1 for r in lines if r["case"] == "repeat-sampling" and r["scorer"] == "tags_known") == 3
    )


def test_junit_on_error_marks_the_case_as_error(suite_copy: Path, tmp_path: Path) -> None:
    (suite_copy.parent.parent / "cassettes" / "support_ticket" / "never-arrived.yaml").unlink()
    junit = tmp_path / "j.xml"
    assert llmkit("eval", str(suite_copy), "--junit", str(junit)).code == 2
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1"
    (errored,) = [tc.get("name") for tc in suite.iter("testcase") if tc.find("error") is not None]
    assert errored == "never-arrived"


def _pytest(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    # an installed llmkit loads the plugin by its pytest11 entry point, and naming a plugin
    # twice is an error: ask the same environment whether the entry point is visible
    probe = "from importlib.metadata import entry_points as e; print(any(p.name == 'llmkit_evals' for p in e(group='pytest11')))"
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    plugin = [] if found.stdout.strip() == "True" else ["-p", "llmkit._pytest_plugin"]
    cmd = [sys.executable, "-m", "pytest", *plugin, "-q", "-p", "no:cacheprovider", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
def test_pytest_plugin_one_test_per_case(suite_copy: Path, tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    ok = _pytest(str(suite_copy), cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "12 passed" in ok.stdout  # 11 cases and the suite's gate
    smoke = _pytest(str(suite_copy), "-k", "smoke", cwd=tmp_path)
    assert "2 passed" in smoke.stdout
    worse = worsen_suite(suite_copy, tmp_path / "worse")  # no cassettes: every case errors
    bad = _pytest(str(worse), cwd=tmp_path)
    assert bad.returncode == 2  # as `llmkit eval`: a missing recording is an error
    assert "12 failed" in bad.stdout
    assert "no recording" in bad.stdout


def test_demo_replays_the_packaged_suite_quickly() -> None:
    console = Console(record=True, width=140)
    report = run_demo(console, quick=True)
    assert report["replay"] == {"cases": 11, "pass_rate": 1.0, "exit_code": 0}
    assert "no network" in console.export_text()


def test_demo_catches_the_worse_prompt() -> None:
    report = run_demo(Console(record=True, width=140))
    assert report["worse_prompt"]["exit_code"] == 1
    assert report["worse_prompt"]["failing"]
