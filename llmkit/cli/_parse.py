"""``llmkit parse``: model text in, schema-valid JSON out (one answer, or JSON lines)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, Any

import click

from llmkit.cli._common import fail_cleanly

__all__ = ["parse"]


def _load_schema_file(path: str) -> Any:
    import yaml

    text = Path(path).read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise click.BadParameter(f"not JSON or YAML: {exc}", param_hint="--schema") from None
    if not isinstance(data, (dict, bool)):
        raise click.BadParameter("the schema must be a mapping", param_hint="--schema")
    return data


def _dumps(obj: Any) -> str:
    from llmkit.structured import to_jsonable

    return json.dumps(to_jsonable(obj), ensure_ascii=False, allow_nan=False)


def _line_result(raw: bytes, default_schema: Any, fmt: str) -> dict[str, Any]:
    from llmkit.structured import parse as parse_text

    try:
        record = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return {
            "ok": False,
            "value": None,
            "stage": "failed",
            "repairs": [],
            "error": f"malformed input line: {exc}",
        }
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        return {
            "ok": False,
            "value": None,
            "stage": "failed",
            "repairs": [],
            "error": "input line must be a JSON object with a string 'text'",
        }
    schema = record.get("schema", default_schema)
    finish = record.get("finish_reason")
    try:
        result = parse_text(
            record["text"],
            schema,
            format=fmt,
            finish_reason=finish if isinstance(finish, str) else None,
        )
    except (TypeError, ValueError) as exc:
        return {
            "ok": False,
            "value": None,
            "stage": "failed",
            "repairs": [],
            "error": f"bad schema or options: {str(exc).splitlines()[0][:300]}",
        }
    out = result.to_dict()
    out.pop("raw", None)
    out.pop("diff", None)
    return out


def _run_jsonl(stdin: IO[bytes], stdout: IO[str], schema: Any, fmt: str) -> None:
    for raw in stdin:
        if not raw.strip():
            continue
        try:
            line = _dumps(_line_result(raw, schema, fmt))
        except (ValueError, RecursionError) as exc:  # never drop a line
            line = json.dumps(
                {
                    "ok": False,
                    "value": None,
                    "stage": "failed",
                    "repairs": [],
                    "error": f"value could not be written as JSON: {exc}",
                }
            )
        stdout.write(line + "\n")
        stdout.flush()


@click.command("parse")
@click.option(
    "--schema",
    "schema_file",
    type=click.Path(exists=True, dir_okay=False),
    help="JSON Schema file (JSON or YAML).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json", "auto"]),
    default="auto",
    show_default=True,
    help="Format of the answer.",
)
@click.option(
    "--jsonl",
    is_flag=True,
    help='Read JSON lines {"text": ...} and write one result line per input.',
)
@click.option("--finish-reason", default=None, help="finish_reason of the answer (e.g. length).")
@click.option("--verbose", "-v", is_flag=True, help="Print stage and repairs to stderr.")
def parse(
    schema_file: str | None, fmt: str, jsonl: bool, finish_reason: str | None, verbose: bool
) -> None:
    """Parse model output from stdin into a schema-valid value, printed as JSON."""
    with fail_cleanly():
        schema = _load_schema_file(schema_file) if schema_file else None
        if jsonl:
            _run_jsonl(sys.stdin.buffer, sys.stdout, schema, fmt)
            return
        from llmkit.structured import parse as parse_text

        data = sys.stdin.buffer.read()
        result = parse_text(data, schema, format=fmt, finish_reason=finish_reason)
        if verbose:
            click.echo(
                f"stage: {result.stage}; repairs: {', '.join(result.repairs) or '-'}", err=True
            )
        if not result.ok:
            click.echo(f"error: {result.error}", err=True)
            raise SystemExit(1)
        sys.stdout.write(_dumps(result.value) + "\n")
