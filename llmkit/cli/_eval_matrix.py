"""``llmkit eval SUITE`` for a suite with a ``matrix:`` block: every cell, a side-by-side
table, and ``--compare A B`` (column B against column A by the paired tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from llmkit import LLMKitError

__all__ = ["run_matrix_cli"]


def run_matrix_cli(
    suite: Any,
    run_column: Any,
    compare: tuple[str, str] | None,
    junit: Path | None,
    summary_md: Path | None,
    as_json: bool,
    output: Path | None,
    console: Any,
    extra: dict[str, Any] | None = None,
) -> int:
    """Run the matrix, print and write its reports; the exit code.

    ``extra`` goes into every column's summary and the matrix document (``--shard``'s
    ``{"shard": ...}``, which ``llmkit eval merge`` reads back)."""
    from rich.table import Table

    from llmkit.evals import (
        compare_columns,
        matrix_columns,
        matrix_document,
        matrix_exit_code,
        matrix_junit,
        matrix_markdown,
        matrix_table_rows,
        run_matrix,
        write_matrix_results,
    )

    columns = matrix_columns(suite)
    if compare is not None:  # a wrong column name is misuse: say so before any cell runs
        from llmkit.evals import find_column

        for name in compare:
            find_column(columns, name)
    matrix = run_matrix(suite, run_column, columns)
    for run, summary in zip(matrix.runs, matrix.summaries, strict=True):
        summary.update(extra or {})
        if extra and "shard" in extra and not run.cases:  # an empty slice passes
            summary["exit_code"], summary["ok"] = 0, True
    comparison, col_a, col_b = None, None, None
    if compare is not None:
        if any(matrix.runs[matrix.columns.index(find_column(columns, n))].errors for n in compare):
            comparison = None  # a cell that could not run is not compared (exit 2 below)
        else:
            col_a, col_b, comparison = compare_columns(matrix, *compare)
    code = matrix_exit_code(matrix, comparison, col_b)
    document = {**matrix_document(matrix, comparison, col_a, col_b, code), **(extra or {})}
    if output is not None:
        write_matrix_results(matrix, document, output)
    if junit is not None:
        junit.write_text(matrix_junit(matrix, comparison, col_b), encoding="utf-8")
    if summary_md is not None:
        with summary_md.open("a", encoding="utf-8") as f:
            f.write(matrix_markdown(matrix, comparison, code))
    if as_json:
        click.echo(json.dumps(document, indent=2, allow_nan=False))
    else:
        rows = matrix_table_rows(matrix)
        table = Table(title=f"llmkit eval {suite.name}: {len(columns)} columns")
        for i, head in enumerate(rows[0]):
            if i == 0:
                table.add_column(head, no_wrap=True)
            else:
                table.add_column(head, justify="right", overflow="fold")
        for row in rows[1:]:
            table.add_row(*row)
        console.print(table)
        if comparison is not None:
            for line in comparison.lines():
                console.print(line, markup=False, highlight=False, soft_wrap=True)
    for line in [*matrix.errors, *matrix.problems]:
        click.echo(f"llmkit eval: {line}", err=True)
    if comparison is not None and comparison.regressed:
        for line in comparison.regressions:
            click.echo(
                f"llmkit eval: regression of {col_b.name if col_b else ''}: {line}", err=True
            )
    if code == 1 and comparison is None:
        failing = [
            c.name
            for c, s in zip(matrix.columns, matrix.summaries, strict=True)
            if s["exit_code"] == 1
        ]
        click.echo(f"llmkit eval: column(s) below their gate: {', '.join(failing)}", err=True)
    if code not in (0, 1, 2, 3):
        raise LLMKitError(f"unexpected exit code {code}")
    return code
