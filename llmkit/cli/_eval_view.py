"""``llmkit eval view RESULTS -o report.html``: a static HTML report of a results folder."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from llmkit import LLMKitError
from llmkit.cli._common import ExitCode, OutputPath

__all__ = ["view_command"]


@click.command("view")
@click.argument("results", type=click.Path(file_okay=False, path_type=Path))
@click.option("-o", "--output", type=OutputPath(), required=True, help="The HTML file to write.")
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A summary JSON whose outputs each case is diffed against (a matrix: its first column).",
)
@click.option("--title", default=None, help="The page title (default: the suite's name).")
def view_command(results: Path, output: Path, baseline: Path | None, title: str | None) -> None:
    """Write one static HTML file (no script, nothing fetched; opens from file://) of an
    eval results folder: the matrix, each case's output beside the baseline's with a diff,
    scores, latency, cost, and filters by tag and status.

    \b
    llmkit eval prompts/support_ticket.eval.yaml -o results
    llmkit eval view results -o report.html --baseline prompts/support_ticket.baseline.json
    """
    from llmkit.evals import write_report

    try:
        path = write_report(results, output, baseline, title)
    except LLMKitError as exc:
        click.echo(f"llmkit eval view: {str(exc).splitlines()[0]}", err=True)
        sys.exit(ExitCode.BAD_INPUT)
    click.echo(f"wrote {path} ({path.stat().st_size // 1024} KiB)")
