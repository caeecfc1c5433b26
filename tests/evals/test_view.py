"""``llmkit eval view``: one static HTML report, checked in Debian's chromium (Playwright).

Never ``playwright install``: the browser fixture of the annotation web tests drives
``/usr/bin/chromium`` (skipped without it, failed under ``CI=true``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from annotate_web.conftest import browser  # noqa: F401  (the chromium fixture)

from llmkit.evals import ReportColumn, render_report

from .helpers import llmkit
from .test_matrix import GOOD, SIM, WORSE, matrix_suite  # noqa: F401  (a recorded matrix)
from .test_shard_merge import _mixed_suite


def _open(browser: Any, report: Path) -> tuple[Any, list[str]]:  # noqa: F811
    page = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
    page.set_default_timeout(15_000)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(report.resolve().as_uri())
    return page, requests


def _shot(page: Any, name: str) -> bytes:
    png: bytes = page.screenshot(full_page=False)
    folder = os.environ.get("LLMKIT_TEST_ARTIFACTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"eval-view-{name}.png").write_bytes(png)
    return png


def _shown(page: Any) -> list[str]:
    """Ids of the cases the filters leave visible (one query; Playwright's :visible is slow)."""
    ids: list[str] = page.evaluate(
        "[...document.querySelectorAll('details.case')]"
        ".filter(e => e.checkVisibility()).map(e => e.id.slice(5))"
    )
    return ids


def _static(html: str) -> None:
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href|action)\s*=\s*["']?(https?:|//)""", html)
    assert "@import" not in html and "url(" not in html


@pytest.mark.slow
def test_single_run_report_filters_and_diffs_in_chromium(
    suite_copy: Path,
    tmp_path: Path,
    browser: Any,  # noqa: F811
) -> None:
    suite = _mixed_suite(suite_copy)
    res = tmp_path / "res"
    assert llmkit("eval", str(suite), "-o", str(res)).code in (0, 1)
    summary = json.loads((res / "summary.json").read_text())
    failing = sorted(c for c, v in summary["per_case"].items() if not v["passed"])
    smoke_failing = [c for c in failing if "smoke" in summary["per_case"][c]["tags"]]
    assert failing and len(failing) < len(summary["per_case"])
    base = json.loads(json.dumps(summary))
    changed = "charged-twice"
    out = base["per_case"][changed]["outputs"][0]
    base["per_case"][changed]["outputs"] = [out.replace("priority: high", "priority: low")]
    (tmp_path / "base.json").write_text(json.dumps(base))
    report = tmp_path / "report.html"
    ran = llmkit(
        "eval", "view", str(res), "-o", str(report), "--baseline", str(tmp_path / "base.json")
    )
    assert ran.code == 0, ran.err
    html = report.read_text()
    _static(html)
    page, requests = _open(browser, report)
    assert page.locator("details.case").count() == 11
    page.click("label[for=f-s-fail]")
    assert sorted(_shown(page)) == failing
    page.click("label:has-text('smoke')")
    assert len(_shown(page)) == len(smoke_failing)
    page.click("label[for=f-s-all]")
    page.click("label[for=f-t-all]")
    assert len(_shown(page)) == 11
    page.click(f"#case-{changed} > summary")
    diff = page.locator(f"#case-{changed} pre.diff")
    assert diff.locator(".del").inner_text() == "-priority: low"
    assert diff.locator(".add").inner_text() == "+priority: high"
    mine, theirs = page.locator(f"#case-{changed} .pair pre").all()
    a, b = mine.bounding_box(), theirs.bounding_box()
    assert a and b and b["x"] > a["x"] + a["width"] - 1 and abs(a["y"] - b["y"]) < 2  # side by side
    why = page.locator("details.case.s-fail .why").first
    page.locator("details.case.s-fail > summary").first.click()
    assert "email_shape" in why.inner_text()
    assert _shot(page, "single")[:8] == b"\x89PNG\r\n\x1a\n"
    assert {u.split(":")[0] for u in requests} == {"file"} and len(requests) == 1


@pytest.mark.slow
def test_matrix_report_shows_every_column_diffed_against_the_first(
    matrix_suite: Path,  # noqa: F811
    tmp_path: Path,
    browser: Any,  # noqa: F811
) -> None:
    out = tmp_path / "out"
    assert llmkit("eval", str(matrix_suite), "-o", str(out)).code == 0
    report = tmp_path / "m.html"
    assert llmkit("eval", "view", str(out), "-o", str(report)).code == 0
    _static(report.read_text())
    page, _ = _open(browser, report)
    header = page.locator("#matrix tr td:first-child").all_inner_texts()
    assert header == [
        f"{GOOD}@{SIM}",
        f"{GOOD}@llmkit-sim-large",
        f"{WORSE}@{SIM}",
        f"{WORSE}@llmkit-sim-large",
    ]
    page.click("label[for=f-s-fail]")
    page.locator(f"#case-{_shown(page)[0]} > summary").click()
    titles = page.locator("details.case[open] .diff h4").all_inner_texts()
    assert f"diff: {GOOD}@{SIM} → {WORSE}@{SIM}" in titles
    _shot(page, "matrix")


def _synthetic(n: int) -> list[ReportColumn]:
    per_case: dict[str, Any] = {}
    timing: dict[str, Any] = {}
    for i in range(n):
        status = "error" if i % 97 == 0 else ("fail" if i % 7 == 0 else "pass")
        per_case[f"case-{i:04d}"] = {
            "tags": [f"tag{i % 10}", "all-cases"],
            "passed": status == "pass",
            "error": "no recording" if status == "error" else None,
            "scores": {
                "s": {"score": 1.0 if status == "pass" else 0.0, "passed": status == "pass"}
            },
            "outputs": ["\n".join(f"line {j}: value {i * j}" for j in range(12))],
            "cost_usd": 0.0001 * i,
        }
        timing[f"case-{i:04d}"] = {"calls": 1, "e2e_ms": 100.0 + i, "total_tokens": 50}
    summary = {
        "suite": "big",
        "cases": n,
        "passed_cases": 0,
        "pass_rate": 0.5,
        "mode": "replay",
        "per_case": per_case,
        "exit_code": 1,
    }
    return [ReportColumn("big", summary, timing)]


@pytest.mark.slow
def test_report_holds_1000_cases(tmp_path: Path, browser: Any) -> None:  # noqa: F811
    columns = _synthetic(1000)
    base = json.loads(json.dumps(columns[0].summary))
    for entry in base["per_case"].values():
        entry["outputs"] = [entry["outputs"][0].replace("line 3:", "line three:")]
    html = render_report(columns, base)
    assert len(html) < 8_000_000
    report = tmp_path / "big.html"
    report.write_text(html)
    page, _ = _open(browser, report)
    assert page.locator("details.case").count() == 1000
    page.click("label[for=f-s-error]")
    assert len(_shown(page)) == len(range(0, 1000, 97))
    page.click("label[for=f-s-all]")
    page.click("label:has-text('tag3 (')")
    assert len(_shown(page)) == 100
    page.click("label[for=f-t-all]")
    last = page.locator("#case-case-0999")
    last.locator("summary").click()
    assert last.locator(".diff .add").inner_text() == "+line 3: value 2997"
    _shot(page, "1000-cases")


def test_view_errors_exit_2(tmp_path: Path) -> None:
    ran = llmkit("eval", "view", str(tmp_path / "none"), "-o", str(tmp_path / "r.html"))
    assert ran.code == 2 and "not a folder" in ran.err
    (tmp_path / "res").mkdir()
    (tmp_path / "res" / "summary.json").write_text('{"per_case": \n oops')
    ran = llmkit("eval", "view", str(tmp_path / "res"), "-o", str(tmp_path / "r.html"))
    assert ran.code == 2 and "summary.json:2: not JSON" in ran.err


def test_output_is_escaped(tmp_path: Path) -> None:
    columns = _synthetic(2)
    entry = columns[0].summary["per_case"]["case-0001"]
    entry["outputs"] = ["<script>alert(1)</script><img src=x>"]
    entry["tags"] = ['"><b>x']
    html = render_report(columns)
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert '"><b>x' not in html


def test_tag_counts_count_cases_not_columns() -> None:
    one = _synthetic(20)[0]
    two = ReportColumn("second", json.loads(json.dumps(one.summary)), one.timing)
    html = render_report([one, two])
    assert 'for="f-t-0">all-cases (20)</label>' in html
