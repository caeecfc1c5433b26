"""``llmkit taxonomy``: which repair rules fired, what failed, which prompt hints help."""

from __future__ import annotations

from pathlib import Path

import click

from llmkit.cli._columns import columns_text, safe_cell
from llmkit.cli._common import BadInputError, fail_cleanly, json_option, print_json
from llmkit.cli._log import call_log_rows

__all__ = ["taxonomy"]


@click.command("taxonomy")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--log", "use_log", is_flag=True, help="Read the model client's call log.")
@click.option(
    "--log-path", default=None, help="Call log path (implies --log; default: the client's)."
)
@click.option(
    "--schema",
    "schema_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Schema for records that carry only text.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json", "auto"]),
    default="auto",
    show_default=True,
)
@click.option("--top", default=5, show_default=True, help="Hint lines to suggest.")
@json_option
def taxonomy(
    file: str | None,
    use_log: bool,
    log_path: str | None,
    schema_file: str | None,
    fmt: str,
    top: int,
    as_json: bool,
) -> None:
    """Error taxonomy over a JSONL file of parse results (or texts), or the call log."""
    from llmkit.structured import taxonomy_from_jsonl, taxonomy_from_log

    with fail_cleanly():
        use_log = use_log or log_path is not None
        if not file and not use_log:
            raise click.UsageError("give a JSONL FILE or --log")
        if file and use_log:
            raise click.UsageError("give a JSONL FILE or --log, not both")
        if use_log:
            report = taxonomy_from_log(call_log_rows(Path(log_path) if log_path else None), top=top)
        else:
            from llmkit.cli._parse import _load_schema_file

            schema = _load_schema_file(schema_file) if schema_file else None
            assert file is not None
            report = taxonomy_from_jsonl(file, schema=schema, format=fmt, top=top)
            if report.total == 0:  # a binary file or the wrong JSONL is not "0 problems"
                skipped = f"all {report.skipped} lines skipped" if report.skipped else "empty"
                raise BadInputError(
                    f"{file}: no parse results or texts ({skipped}): expected JSON lines "
                    'with "stage" or "text"'
                )
        if as_json:
            print_json(report.to_dict())
            return
        _print(report)


def _print(report: object) -> None:
    from llmkit.structured import Taxonomy, get_rule

    assert isinstance(report, Taxonomy)
    total = report.total or 1
    tables = [
        columns_text(
            ("stage", "count", "share"),
            [(stage, n, f"{n / total:.1%}") for stage, n in report.stages.items()],
            numeric=("count", "share"),
            title=f"Stages over {report.total} answers",
        )
    ]
    if report.skipped:
        tables.append(
            f"{report.skipped} input line(s) skipped: not JSON, not an object, "
            "no stage or text, or a bad per-line schema.\n"
        )
    rules = []
    for name, n in report.rules.items():
        rule = get_rule(name)
        rules.append((name, n, f"{n / total:.1%}", rule.error_class if rule else ""))
    tables.append(
        columns_text(
            ("rule", "count", "share", "error class"),
            rules,
            numeric=("count", "share"),
            title="Rules that fired",
        )
    )
    if report.failures:
        tables.append(
            columns_text(
                ("class", "count"),
                list(report.failures.items()),
                numeric=("count",),
                title="Failures",
            )
        )
    if report.hints:
        hints = "".join(f"  - {safe_cell(h)}\n" for h in report.hints)
        tables.append(f"Hint lines to add to the prompt:\n{hints}")
    click.echo("\n".join(tables), nl=False)
