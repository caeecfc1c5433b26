"""``llmkit eval merge RESULT...``: join ``--shard i/n`` result folders into one run and report.

The merged run is judged and reported exactly as an unsharded ``llmkit eval`` of the same
suite would be: one summary, one JUnit file, one Markdown report, one baseline comparison.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from llmkit import LLMKitError
from llmkit.cli._common import ExitCode, OutputPath
from llmkit.cli._eval import _empty_is_none, finish_run

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
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A committed earlier summary to compare with (paired tests).",
)
@click.option(
    "--update-baseline", is_flag=True, help="Write the merged summary as the new baseline."
)
@click.option("--junit", type=OutputPath(), help="Write JUnit XML here.")
@click.option(
    "--markdown",
    "summary",
    metavar="FILE",
    callback=_empty_is_none,
    help="Append the Markdown report here (e.g. $GITHUB_STEP_SUMMARY; empty: none).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the summary JSON instead of the table."
)
@click.option(
    "--results-dir",
    "-o",
    "output",
    type=OutputPath(file_okay=False, dir_okay=True),
    default=None,
    help="Folder for the merged results.jsonl and summary.json.",
)
def merge_command(
    results: tuple[Path, ...],
    suite_path: Path | None,
    baseline: Path | None,
    update_baseline: bool,
    junit: Path | None,
    summary: Path | None,
    as_json: bool,
    output: Path | None,
) -> None:
    """Merge the -o folders of `llmkit eval --shard i/n` runs into one report.

    \b
    llmkit eval s.eval.yaml --shard 1/3 -o shard-1    # one per CI job
    llmkit eval merge shard-1 shard-2 shard-3 --junit junit.xml --baseline s.baseline.json
    """
    from rich.console import Console

    from llmkit.evals import load_baseline, load_suite
    from llmkit.evals._merge import merge_shards

    if update_baseline and baseline is None:
        click.echo("llmkit eval merge: --update-baseline needs --baseline FILE", err=True)
        sys.exit(ExitCode.BAD_INPUT)
    try:
        suite = load_suite(suite_path) if suite_path is not None else None
        run = merge_shards(results, suite)
        baseline_data = (
            load_baseline(baseline) if baseline is not None and not update_baseline else None
        )
        code = finish_run(
            run,
            baseline_data,
            baseline,
            update_baseline,
            junit,
            summary,
            as_json,
            output,
            Console(stderr=as_json),
        )
    except LLMKitError as exc:
        click.echo(f"llmkit eval merge: {str(exc).splitlines()[0]}", err=True)
        sys.exit(ExitCode.BAD_INPUT)
    sys.exit(code)
