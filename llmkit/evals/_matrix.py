"""Prompts × models: one suite run once per cell, side by side, and two cells compared.

A suite's ``matrix:`` block names prompt versions (template names, files, or inline) and
model names; each pair is a column (``<label>@<model>``) whose cassettes live in their own
folder, ``<cassettes>/<label>@<model>/``, so every cell replays its own recordings and a
stale cell names itself (``cell v2@gpt-4o: case refund: no recording in ...``)::

    matrix:
      prompts: [support_ticket, {label: terse, prompt: prompts/terse.yaml}]
      models: [gpt-4o-mini, llama-3.1-8b]

``compare_columns`` compares two columns case by case with the baseline comparison's
paired tests (column A as the baseline), so ``--compare A B`` exits as ``--baseline`` does.
"""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmkit._exceptions import ConfigError
from llmkit.evals._baseline import Comparison, compare_to_baseline
from llmkit.evals._cost import apply_cost
from llmkit.evals._report import junit_xml
from llmkit.evals._runner import EvalRun
from llmkit.evals._suite import Suite
from llmkit.stats import percentiles

__all__ = [
    "MATRIX_FORMAT",
    "Column",
    "MatrixRun",
    "column_stats",
    "compare_columns",
    "find_column",
    "matrix_columns",
    "matrix_document",
    "matrix_exit_code",
    "matrix_junit",
    "matrix_markdown",
    "run_matrix",
    "table_rows",
    "write_matrix_results",
]

MATRIX_FORMAT = "llmkit.eval.matrix/1"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.@-]")


@dataclass(frozen=True)
class Column:
    """One cell of the matrix: a prompt label, a model, and the suite that runs it."""

    name: str
    prompt_label: str
    model: str
    suite: Suite

    @property
    def slug(self) -> str:
        """The column's name made safe as a folder name (its cassettes, its results)."""
        return _UNSAFE.sub("_", self.name)


def matrix_columns(suite: Suite) -> list[Column]:
    """The suite's cells, prompts outer and models inner (the suite itself when no matrix)."""
    prompts = suite.matrix_prompts or (("prompt", suite.prompt),)
    models = suite.matrix_models or (suite.model_name,)
    columns = []
    for label, template in prompts:
        for model in models:
            name = f"{label}@{model}"
            slug = _UNSAFE.sub("_", name)
            structured = template.schema is not None and (
                suite.structured or suite.prompt.schema is None
            )
            cell = dataclasses.replace(
                suite,
                prompt=template,
                model={**suite.model, "name": model},
                cassette_dir=suite.cassette_dir / slug,
                structured=structured,
            )
            columns.append(Column(name, label, model, cell))
    return columns


def find_column(columns: Sequence[Column], wanted: str) -> Column:
    """The column called ``wanted``: its full name, or a prompt label or model naming one.

    Raises:
        ConfigError: no column, or several, answer to that name (the known ones are listed).
    """
    exact = [c for c in columns if c.name == wanted]
    if exact:
        return exact[0]
    by_part = [c for c in columns if wanted in (c.prompt_label, c.model)]
    if len(by_part) == 1:
        return by_part[0]
    known = ", ".join(c.name for c in columns)
    why = "names several columns" if by_part else "is no column"
    raise ConfigError(f"--compare {wanted!r} {why} (columns: {known})")


@dataclass(frozen=True)
class MatrixRun:
    """Every cell's run and its summary (cost and gate applied), in column order."""

    suite: Suite
    columns: tuple[Column, ...]
    runs: tuple[EvalRun, ...]
    summaries: tuple[dict[str, Any], ...]
    problems: tuple[str, ...]

    @property
    def errors(self) -> list[str]:
        """One line per case that could not run, naming its cell first."""
        return [
            f"cell {col.name}: {err}"
            for col, run in zip(self.columns, self.runs, strict=True)
            for err in run.errors
        ]


def run_matrix(
    suite: Suite,
    run_column: Callable[[Suite], EvalRun],
    columns: Sequence[Column] | None = None,
) -> MatrixRun:
    """Run every column with ``run_column`` (a ``run_suite`` with the caller's settings)."""
    cols = tuple(columns if columns is not None else matrix_columns(suite))
    runs, summaries, problems = [], [], []
    for col in cols:
        run = run_column(col.suite)
        summary = run.summary()
        gate = apply_cost(summary, run)
        problem = summary["cost"]["problem"]
        if not gate and problem and suite.prices:  # report an unpriced model, never zero it
            gate = [f"cost unknown: {problem}"]
        problems += [f"cell {col.name}: {p}" for p in gate]
        summary["column"] = {"name": col.name, "prompt": col.prompt_label, "model": col.model}
        runs.append(run)
        summaries.append(summary)
    return MatrixRun(suite, cols, tuple(runs), tuple(summaries), tuple(problems))


def column_stats(run: EvalRun, summary: dict[str, Any]) -> dict[str, Any]:
    """One row of the side-by-side table: pass rate, mean score, p50/p95 E2E, tokens, cost."""
    means = []
    e2e: list[float] = []
    tokens = 0
    for c in run.cases:
        if c.records:
            means.append(sum(r.score for r in c.records) / len(c.records))
            timing = c.records[0].timing
            if isinstance(timing.get("e2e_ms"), int | float) and timing.get("calls"):
                e2e.append(float(timing["e2e_ms"]))
            tokens += int(timing.get("total_tokens") or 0)
    p50, p95 = percentiles(e2e, [50, 95]) if e2e else (None, None)
    return {
        "cases": len(run.cases),
        "pass_rate": summary["pass_rate"],
        "mean_score": round(sum(means) / len(means), 6) if means else None,
        "p50_ms": round(p50, 3) if p50 is not None else None,
        "p95_ms": round(p95, 3) if p95 is not None else None,
        "tokens": tokens,
        "cost_usd": (summary.get("cost") or {}).get("usd"),
        "errors": len(run.errors),
        "exit_code": summary["exit_code"],
    }


def compare_columns(matrix: MatrixRun, a: str, b: str) -> tuple[Column, Column, Comparison]:
    """Column ``b`` against column ``a`` by the baseline comparison's paired tests."""
    col_a, col_b = find_column(matrix.columns, a), find_column(matrix.columns, b)
    if col_a is col_b:
        raise ConfigError(f"--compare {a} {b}: the same column twice")
    ia, ib = matrix.columns.index(col_a), matrix.columns.index(col_b)
    comparison = compare_to_baseline(
        matrix.summaries[ib], matrix.summaries[ia], baseline_path=f"column {col_a.name}"
    )
    return col_a, col_b, comparison


def matrix_exit_code(matrix: MatrixRun, comparison: Comparison | None, b: Column | None) -> int:
    """2 if any cell failed to run or a gate could not be checked; with ``--compare``, B's
    gate raised to 1 on a regression against A; without, the worst column's code."""
    codes = [int(s["exit_code"]) for s in matrix.summaries]
    if 2 in codes:
        return 2
    if comparison is None or b is None:
        return max(codes, default=0)
    code = codes[matrix.columns.index(b)]
    if comparison.regressed:
        code = max(code, 1)
    elif getattr(comparison, "inconclusive", False) and code == 0:
        code = 3
    return code


def _fmt(value: Any, spec: str, empty: str = "") -> str:
    return empty if value is None else format(value, spec)


def table_rows(matrix: MatrixRun) -> list[list[str]]:
    """The side-by-side table as text cells (header first)."""
    rows = [["column", "pass rate", "mean score", "p50 ms", "p95 ms", "tokens", "cost $"]]
    for col, run, summary in zip(matrix.columns, matrix.runs, matrix.summaries, strict=True):
        st = column_stats(run, summary)
        rows.append(
            [
                col.name + (f" ({st['errors']} errors)" if st["errors"] else ""),
                f"{st['pass_rate']:.1%}",
                _fmt(st["mean_score"], ".3f"),
                _fmt(st["p50_ms"], ".0f"),
                _fmt(st["p95_ms"], ".0f"),
                str(st["tokens"]),
                _fmt(st["cost_usd"], ".6f", "unknown"),
            ]
        )
    return rows


def matrix_markdown(matrix: MatrixRun, comparison: Comparison | None, code: int) -> str:
    """The matrix as a Markdown section (fit for ``$GITHUB_STEP_SUMMARY``)."""
    verdict = {0: "✅ pass", 1: "❌ fail", 2: "⚠️ error", 3: "❔ inconclusive"}.get(code, str(code))
    rows = table_rows(matrix)
    out = [
        f"## llmkit eval matrix: {matrix.suite.name} — {verdict}",
        "",
        "| " + " | ".join(rows[0]) + " |",
        "| --- |" + " ---: |" * (len(rows[0]) - 1),
    ]
    out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |" for r in rows[1:]]
    if comparison is not None:
        out += ["", comparison.to_markdown().rstrip()]
    return "\n".join(out) + "\n"


def matrix_junit(matrix: MatrixRun, comparison: Comparison | None, b: Column | None) -> str:
    """One JUnit file: a ``testsuite`` per column (named ``llmkit.eval.<suite>.<column>``)."""
    root = ET.Element("testsuites")
    for col, run in zip(matrix.columns, matrix.runs, strict=True):
        doc = ET.fromstring(junit_xml(run, comparison if col is b else None))
        for suite in doc.iter("testsuite"):
            suite.set("name", f"llmkit.eval.{matrix.suite.name}.{col.name}")
            for case in suite.iter("testcase"):
                case.set("classname", f"{matrix.suite.name}.{col.name}")
            root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def matrix_document(
    matrix: MatrixRun, comparison: Comparison | None, a: Column | None, b: Column | None, code: int
) -> dict[str, Any]:
    """``matrix.json``: the table, every column's summary, the comparison and the verdict."""
    return {
        "format": MATRIX_FORMAT,
        "suite": matrix.suite.name,
        "suite_file": str(matrix.suite.path),
        "exit_code": code,
        "ok": code == 0,
        "columns": [
            {
                "name": c.name,
                "slug": c.slug,
                "prompt": c.prompt_label,
                "model": c.model,
                **column_stats(r, s),
            }
            for c, r, s in zip(matrix.columns, matrix.runs, matrix.summaries, strict=True)
        ],
        "compare": [a.name, b.name] if a is not None and b is not None else None,
        "comparison": comparison.to_dict() if comparison is not None else None,
        "errors": matrix.errors,
        "problems": list(matrix.problems),
        "summaries": {c.name: s for c, s in zip(matrix.columns, matrix.summaries, strict=True)},
    }


def write_matrix_results(matrix: MatrixRun, document: dict[str, Any], folder: Path) -> None:
    """``folder/matrix.json`` and, per column, ``folder/<slug>/results.jsonl`` and summary."""
    import json

    from llmkit.evals._report import write_results

    folder.mkdir(parents=True, exist_ok=True)
    for col, run, summary in zip(matrix.columns, matrix.runs, matrix.summaries, strict=True):
        write_results(run, folder / col.slug / "results.jsonl")
        (folder / col.slug / "summary.json").write_text(
            json.dumps(summary, indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )
    (folder / "matrix.json").write_text(
        json.dumps(document, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
