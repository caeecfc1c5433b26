"""``llmkit log``: recent calls from the call log."""

from __future__ import annotations

import json
from pathlib import Path

import click

from llmkit.cli import _common as common

__all__ = ["log"]

_COLUMNS = (
    "id",
    "model",
    "prompt_name",
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
    "--log-path",
    "path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Call log file (default: LLMKIT_HOME/calls.db). Read only: never created.",
)
@common.deprecated_alias(
    "--path", "path", "--log-path", type=click.Path(path_type=Path, dir_okay=False)
)
@click.option("-n", "--limit", type=click.IntRange(min=1), default=20, show_default=True)
@common.json_option
def log(path: Path | None, limit: int, as_json: bool) -> None:
    """Show the most recent calls: model, prompt, tokens, TTFT, TPOT, E2E, attempts, error."""
    from llmkit.llm import default_log_path, read_log

    target = path or default_log_path()
    with common.fail_cleanly():
        # A missing file, a non-database or a database of something else: one line, exit 1.
        frame = read_log(target, limit=limit)
    if as_json:
        common.print_json(json.loads(frame.to_json(orient="records")))
        return
    columns = [c for c in _COLUMNS if c in frame.columns]
    table = common.make_table(
        *columns,
        title=f"last {len(frame)} calls in {target}",
        numeric=[c for c in columns if c.endswith(("ms", "tokens"))],
    )
    for row in frame.to_dict(orient="records"):
        values = []
        for column in columns:
            v = row[column]
            values.append(
                "" if v is None or v != v else f"{v:.1f}" if isinstance(v, float) else str(v)
            )
        table.add_row(*values)
    common.console().print(table)
