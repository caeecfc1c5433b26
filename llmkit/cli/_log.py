"""``llmkit log``: recent calls from the call log."""

from __future__ import annotations

import json
from pathlib import Path

import click

from llmkit.cli._common import console, json_option, print_json

__all__ = ["log"]

_COLUMNS = (
    "id",
    "model",
    "finish_reason",
    "completion_tokens",
    "ttft_ms",
    "tpot_ms",
    "e2e_ms",
    "attempts",
    "error_type",
)


@click.command()
@click.option(
    "--path", type=click.Path(path_type=Path), help="Call log file (default: LLMKIT_HOME)."
)
@click.option("-n", "--limit", type=click.IntRange(min=1), default=20, show_default=True)
@json_option
def log(path: Path | None, limit: int, as_json: bool) -> None:
    """Show the most recent calls: model, tokens, TTFT, TPOT, E2E, attempts, error."""
    from rich.table import Table

    from llmkit.llm import read_log
    from llmkit.llm._log import default_log_path

    target = path or default_log_path()
    if not target.exists():
        raise click.ClickException(f"no call log at {target} (calls are logged with log=True)")
    frame = read_log(target, limit=limit)
    if as_json:
        print_json(json.loads(frame.to_json(orient="records")))
        return
    table = Table(title=f"last {len(frame)} calls in {target}")
    for column in _COLUMNS:
        table.add_column(column, justify="right" if column.endswith(("ms", "tokens")) else "left")
    for row in frame.itertuples(index=False):
        values = []
        for column in _COLUMNS:
            v = getattr(row, column)
            values.append(
                "" if v is None or v != v else f"{v:.1f}" if isinstance(v, float) else str(v)
            )
        table.add_row(*values)
    console().print(table)
