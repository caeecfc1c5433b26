"""The HTML report of ``llmkit eval view`` at 100 and 1,000 cases, in Debian's chromium.

Run: ``python benchmarks/eval_view.py [--cases 100 1000]``

For each size it renders a synthetic results summary (12-line outputs, a changed baseline
line per case, 10 tags, some failures and errors), then in headless ``/usr/bin/chromium``
times: rendering the file (Python), loading it from ``file://``, and each filter click
(status, tag) until the page has applied it. Sizes side by side show how the costs grow.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from evals.test_view import _synthetic

from llmkit.evals import render_report

SHOWN = "[...document.querySelectorAll('details.case')].filter(e => e.checkVisibility()).length"


def measure(page: object, cases: int, folder: Path) -> dict[str, float]:
    columns = _synthetic(cases)
    base = json.loads(json.dumps(columns[0].summary))
    for entry in base["per_case"].values():
        entry["outputs"] = [entry["outputs"][0].replace("line 3:", "line three:")]
    t = time.perf_counter()
    html = render_report(columns, base)
    out = {"render_s": time.perf_counter() - t, "kib": len(html) / 1024}
    path = folder / f"r{cases}.html"
    path.write_text(html)
    t = time.perf_counter()
    page.goto(path.as_uri())  # type: ignore[attr-defined]
    out["load_s"] = time.perf_counter() - t
    for name, selector in (
        ("filter_status_s", "label[for=f-s-fail]"),
        ("filter_tag_s", "label[for=f-t-3]"),
    ):
        t = time.perf_counter()
        page.click(selector)  # type: ignore[attr-defined]
        page.evaluate(SHOWN)  # type: ignore[attr-defined]  (forces style and layout)
        out[name] = time.perf_counter() - t
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, nargs="+", default=[100, 1000])
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-gpu"],
        )
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        rows = {n: measure(page, n, Path(tmp)) for n in args.cases}
        browser.close()
    keys = list(next(iter(rows.values())))
    print(f"{'':18}" + "".join(f"{n:>12} cases" for n in rows) + "   ratio")
    for key in keys:
        values = [rows[n][key] for n in rows]
        ratio = values[-1] / values[0] if values[0] else float("nan")
        print(f"{key:18}" + "".join(f"{v:18.3f}" for v in values) + f"   {ratio:5.1f}x")


if __name__ == "__main__":
    main()
