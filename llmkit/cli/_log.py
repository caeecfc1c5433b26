"""``llmkit log``: recent calls from the call log."""

from __future__ import annotations

from pathlib import Path

import click

from llmkit import ConfigError
from llmkit.cli import _common as common
from llmkit.cli._columns import columns_text

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
    from llmkit.llm import default_log_path, read_calls

    target = path or default_log_path()
    try:
        rows = read_calls(target, limit=limit)
    except ConfigError as exc:  # no file, not a database, another app's: one line, exit 2
        raise common.BadInputError(str(exc)) from None
    if as_json:
        common.print_json(rows)
        return
    columns = [c for c in _COLUMNS if not rows or c in rows[0]]
    click.echo(
        columns_text(
            columns,
            ([_cell(row[c]) for c in columns] for row in rows),
            numeric=[c for c in columns if c.endswith(("ms", "tokens"))],
            title=f"last {len(rows)} calls in {target}",
        ),
        nl=False,
    )


def _cell(value: object) -> str:
    if value is None or value != value:  # NULL, or NaN
        return ""
    return f"{value:.1f}" if isinstance(value, float) else str(value)
