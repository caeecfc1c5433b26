"""``llmkit eval merge RESULT...``: join ``--shard i/n`` result folders into one run and report.

The merged run is judged and reported exactly as an unsharded ``llmkit eval`` of the same
suite would be: one summary, one JUnit file, one Markdown report, one baseline comparison.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from llmkit import ConfigError, LLMKitError
from llmkit.cli._common import ExitCode, console, err_console
from llmkit.cli._eval import eval_command, finish_run

__all__ = ["merge_command"]


@click.command("merge")
@click.argument(
    "results", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path)
)
@click.option(
    "--suite",
    "suite_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The suite file (default: the one the shard summaries name).",
)
def merge_command(
    results: tuple[Path, ...],
    suite_path: Path | None,
    baseline: Path | None,
    update_baseline: bool,
    accept_regression: bool,
    junit: Path | None,
    summary: Path | None,
    as_json: bool,
    output: Path | None,
    compare: tuple[str, str] | None,
) -> None:
    """Merge the -o folders of `llmkit eval --shard i/n` runs into one report.

    \b
    llmkit eval s.eval.yaml --shard 1/3 -o shard-1    # one per CI job
    llmkit eval merge shard-1 shard-2 shard-3 --junit junit.xml --baseline s.baseline.json
    """
    from llmkit.evals import is_matrix_result, load_suite, merge_shards

    try:
        suite = load_suite(suite_path) if suite_path is not None else None
        if is_matrix_result(results[0]):
            code = _merge_matrix(results, suite, compare, junit, summary, as_json, output)
            sys.exit(code)
        if compare is not None:
            raise ConfigError("--compare merges a matrix's shards; these are one suite's")
        run = merge_shards(results, suite)
        code = finish_run(
            run,
            baseline,
            (update_baseline, accept_regression),
            junit,
            summary,
            as_json,
            output,
            err_console() if as_json else console(),
        )
    except LLMKitError as exc:
        click.echo(f"llmkit eval merge: {str(exc).splitlines()[0]}", err=True)
        sys.exit(ExitCode.BAD_INPUT)
    sys.exit(code)


def _merge_matrix(
    results: tuple[Path, ...],
    suite: Any,
    compare: tuple[str, str] | None,
    junit: Path | None,
    summary: Path | None,
    as_json: bool,
    output: Path | None,
) -> int:
    """A matrix's shards: each column merged, then reported as an unsharded matrix run."""
    import json

    from llmkit.cli._eval_matrix import run_matrix_cli
    from llmkit.evals import load_suite, matrix_columns, merge_matrix_shards

    if suite is None:
        doc = json.loads((results[0] / "matrix.json").read_text(encoding="utf-8"))
        suite = load_suite(str(doc.get("suite_file") or ""))
    columns = matrix_columns(suite)
    merged = merge_matrix_shards(results, columns)
    by_folder = {col.suite.cassette_dir: merged[col.name] for col in columns}
    console_ = err_console() if as_json else console()
    return run_matrix_cli(
        suite,
        lambda cell: by_folder[cell.cassette_dir],
        compare,
        junit,
        summary,
        as_json,
        output,
        console_,
    )


# The report options are eval's own (same names, same help), so merge reports as eval does.
_REPORT_OPTIONS = (
    "baseline",
    "update_baseline",
    "accept_regression",
    "junit",
    "summary",
    "as_json",
    "output",
    "compare",
)
merge_command.params += [p for p in eval_command.params if p.name in _REPORT_OPTIONS]
