"""Reports of a run: JSONL results, JUnit XML, a Markdown summary and a rich table."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from llmkit.evals._runner import EvalRun

__all__ = ["markdown_summary", "print_table", "write_junit", "write_results"]


def write_results(run: EvalRun, path: Path) -> None:
    """``results.jsonl``: one line per case × repeat × scorer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for record in run.records:
            f.write(json.dumps(record.to_dict(), ensure_ascii=False, allow_nan=False) + "\n")


def junit_xml(run: EvalRun, comparison: Any = None) -> str:
    """JUnit XML: one ``testcase`` per case; failures name the scorers that failed."""
    suite = ET.Element(
        "testsuite",
        name=f"llmkit.eval.{run.suite.name}",
        tests=str(len(run.cases)),
        failures=str(sum(1 for c in run.cases if not c.passed and not c.error)),
        errors=str(sum(1 for c in run.cases if c.error)),
        time=f"{run.seconds:.3f}",
    )
    for c in run.cases:
        case = ET.SubElement(
            suite, "testcase", classname=f"{run.suite.name}", name=c.case.id, time="0"
        )
        if c.error:
            ET.SubElement(case, "error", message=c.error[:500], type="EvalError").text = c.error
        elif not c.passed:
            lines = [f"{r.scorer}[{r.repeat}]: {r.detail}" for r in c.records if not r.passed]
            ET.SubElement(
                case, "failure", message=lines[0][:500], type="ScoreFailed"
            ).text = "\n".join(lines)
    regressed = comparison is not None and getattr(comparison, "regressed", False)
    if regressed or (comparison is not None and getattr(comparison, "inconclusive", False)):
        reg = ET.SubElement(
            suite, "testcase", classname=run.suite.name, name="baseline-comparison", time="0"
        )
        text = "\n".join(comparison.regressions if regressed else comparison.undecided)
        ET.SubElement(
            reg,
            "failure",
            message=text.splitlines()[0][:500] if text else "regression",
            type="Regression" if regressed else "Inconclusive",
        ).text = text
        suite.set("tests", str(len(run.cases) + 1))
        suite.set("failures", str(int(suite.get("failures", "0")) + 1))
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(run: EvalRun, path: Path, comparison: Any = None) -> None:
    """Write the run (and its baseline comparison, if any) as a JUnit XML file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit_xml(run, comparison), encoding="utf-8")


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_summary(
    run: EvalRun,
    summary: dict[str, Any],
    comparison_lines: list[str] | None = None,
    comparison_markdown: str | None = None,
) -> str:
    """A Markdown report fit for ``$GITHUB_STEP_SUMMARY``."""
    verdict = {0: "✅ pass", 1: "❌ fail", 2: "⚠️ error", 3: "❔ inconclusive"}[
        int(summary["exit_code"])
    ]
    out = [
        f"## llmkit eval: {_md(run.suite.name)} — {verdict}",
        "",
        f"{summary['passed_cases']}/{summary['cases']} cases passed "
        f"(pass rate {summary['pass_rate']:.1%}, required {summary['min_pass_rate']:.0%}); "
        f"mode `{summary['mode']}`, {summary['seconds']:.2f} s.",
        "",
        "| scorer | kind | mean score | pass rate |",
        "| --- | --- | ---: | ---: |",
    ]
    for name, agg in summary["scorers"].items():
        out.append(
            f"| {_md(name)} | {_md(agg['kind'])} | {agg['mean']:.3f} | {agg['pass_rate']:.1%} |"
        )
    failed = [c for c in run.cases if not c.passed]
    if failed:
        out += ["", "### Failing cases", "", "| case | scorer | detail |", "| --- | --- | --- |"]
        for c in failed:
            if c.error:
                out.append(f"| {_md(c.case.id)} | (error) | {_md(c.error)} |")
                continue
            for r in c.records:
                if not r.passed:
                    out.append(
                        f"| {_md(c.case.id)} | {_md(r.scorer)}[{r.repeat}] | {_md(r.detail)} |"
                    )
    if comparison_markdown:
        out += ["", comparison_markdown.rstrip()]
    elif comparison_lines:
        out += [
            "",
            "### Against the baseline",
            "",
            *[f"- {_md(line)}" for line in comparison_lines],
        ]
    return "\n".join(out) + "\n"


def print_table(run: EvalRun, console: Console) -> None:
    """A rich table: one row per case with its verdict, mean score, stage, E2E and the
    scorers that failed (by name, with the first failure's detail)."""
    from rich.table import Table

    table = Table(title=f"llmkit eval {run.suite.name} ({run.mode})")
    table.add_column("case", no_wrap=True)
    table.add_column("", justify="center")
    table.add_column("score", justify="right")
    table.add_column("stage")
    table.add_column("e2e ms", justify="right")
    table.add_column("failed scorers")
    for c in run.cases:
        if c.error:
            table.add_row(c.case.id, "[yellow]err[/]", "", "", "", f"[yellow]{c.error}[/]")
            continue
        mean = sum(r.score for r in c.records) / len(c.records) if c.records else 0.0
        stages = ",".join(sorted({r.stage for r in c.records if r.stage}))
        e2e = c.records[0].timing.get("e2e_ms") if c.records else None
        failed: list[str] = []
        for r in c.records:
            if not r.passed and r.scorer not in failed:
                failed.append(r.scorer)
        first = next((r for r in c.records if not r.passed), None)
        why = f"{', '.join(failed)}: {first.detail}" if first is not None else ""
        table.add_row(
            c.case.id,
            "[green]✓[/]" if c.passed else "[red]✗[/]",
            f"{mean:.2f}",
            stages,
            f"{e2e:.0f}" if isinstance(e2e, int | float) else "",
            why,
        )
    console.print(table)
