"""``llmkit log``: recent calls from the call log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from llmkit import ConfigError
from llmkit.cli import _common as common
from llmkit.cli._columns import columns_text

__all__ = ["call_log_rows", "log"]

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
    from llmkit.llm import default_log_path

    target = path or default_log_path()
    rows = call_log_rows(target, limit=limit)
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


def call_log_rows(path: Path | None, limit: int | None = None) -> list[dict[str, Any]]:
    """The call log's rows, read-only (a typo never creates a database); no file, not a
    database or another app's is one line, exit 2 (``llmkit log``, ``taxonomy --log``)."""
    from llmkit.llm import read_calls

    try:
        return read_calls(path, limit=limit)
    except ConfigError as exc:
        raise common.BadInputError(str(exc)) from None


def _cell(value: object) -> str:
    if value is None or value != value:  # NULL, or NaN
        return ""
    return f"{value:.1f}" if isinstance(value, float) else str(value)
