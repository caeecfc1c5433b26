"""``llmkit parse``: model text in, schema-valid JSON out (one answer, or JSON lines)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, Any

import click

from llmkit.cli._common import BadInputError, fail_cleanly

__all__ = ["parse"]


def _load_schema_file(path: str, ref_files: tuple[str, ...] = ()) -> Any:
    """Read, check and compile a ``--schema`` file once (JSON, or YAML read as YAML 1.2).

    Raises:
        click.BadParameter: unreadable, not UTF-8, not JSON/YAML, not a mapping, or not a
            valid JSON Schema; the message names the file and the problem.
    """
    from llmkit.structured import load_schema

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise click.BadParameter(
            f"{path}: cannot be read: {exc.strerror or exc}", param_hint="--schema"
        ) from None
    try:
        return load_schema(data, ref_files=ref_files, base=path)
    except ValueError as exc:
        raise click.BadParameter(f"{path}: {exc}", param_hint="--schema") from None


def _not_utf8(data: bytes, where: str) -> str | None:
    """What is wrong with ``data`` as UTF-8, naming ``where`` and the first bad byte."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"{where}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
    return None


def _dumps(obj: Any) -> str:
    from llmkit.structured import to_jsonable

    return json.dumps(to_jsonable(obj), ensure_ascii=False, allow_nan=False)


def _error_line(message: str) -> dict[str, Any]:
    return {"ok": False, "value": None, "stage": "failed", "repairs": [], "error": message}


def _first_line(exc: BaseException) -> str:
    message = getattr(exc, "message", None)  # jsonschema errors: without the dump
    text = str(message if isinstance(message, str) else exc) or type(exc).__name__
    return text.strip().splitlines()[0][:300] if text.strip() else type(exc).__name__


def _line_result(raw: str, default_schema: Any, fmt: str) -> dict[str, Any]:
    from llmkit.structured import compile_schema
    from llmkit.structured import parse as parse_text

    try:
        record = json.loads(raw.removeprefix("\ufeff"))
    except ValueError as exc:
        return _error_line(f"malformed input line: {_first_line(exc)}")
    except RecursionError:
        return _error_line("malformed input line: nested too deeply")
    if not isinstance(record, dict):
        return _error_line(f"input line must be a JSON object, not {type(record).__name__}")
    text = record.get("text")
    if not isinstance(text, str):
        what = "missing" if text is None else f"not {type(text).__name__}"
        return _error_line(f"'text' must be a string ({what})")
    schema = default_schema
    if record.get("schema") is not None:  # a line's own schema overrides --schema
        own = record["schema"]
        if not isinstance(own, dict):
            return _error_line(f"bad schema: must be an object, not {type(own).__name__}")
        try:
            schema = compile_schema(own)
        except Exception as exc:  # SchemaError, RecursionError, ...: this line only
            path = "/".join(str(p) for p in getattr(exc, "path", None) or ())
            where = f" (at {path})" if path else ""
            return _error_line(f"bad schema: {_first_line(exc)}{where}")
    finish = record.get("finish_reason")
    try:
        result = parse_text(
            text, schema, format=fmt, finish_reason=finish if isinstance(finish, str) else None
        )
    except Exception as exc:  # e.g. a $ref the validator cannot resolve
        return _error_line(f"could not parse: {type(exc).__name__}: {_first_line(exc)}")
    out = result.to_dict()
    out.pop("raw", None)
    out.pop("diff", None)
    return out


def _run_jsonl(stdin: IO[bytes], stdout: IO[str], schema: Any, fmt: str) -> None:
    """One output line per non-blank input line, in order, flushed line by line.

    Raises:
        BadInputError: once every line is answered, if some were not UTF-8 text (binary
            input, UTF-16 from a Windows shell): each got an error line, and the exit
            status says the input was wrong, naming the first such line.
    """
    not_text: list[str] = []
    for number, raw in enumerate(stdin, start=1):
        if not raw.strip():
            continue  # blank lines are not records
        problem = _not_utf8(raw, f"stdin line {number}")
        try:
            if problem is not None:
                not_text.append(problem)
                line = json.dumps(_error_line(f"malformed input line: {problem}"))
            else:
                line = _dumps(_line_result(raw.decode("utf-8"), schema, fmt))
            line.encode("utf-8")  # a lone surrogate cannot be written: an error line instead
        except Exception as exc:  # never drop a line
            line = json.dumps(
                _error_line(f"could not answer this line: {type(exc).__name__}: {_first_line(exc)}")
            )
        stdout.write(line + "\n")
        stdout.flush()
    if not_text:
        more = f"; {len(not_text)} such lines" if len(not_text) > 1 else ""
        raise BadInputError(f"{not_text[0]}{more}, each answered with an error line")


@click.command("parse")
@click.option(
    "--schema",
    "schema_file",
    type=click.Path(exists=True, dir_okay=False),
    help="JSON Schema file (JSON or YAML).",
)
@click.option(
    "--ref-file",
    "ref_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="A local schema file the schema's $refs may name (repeatable); no other file"
    " or URL is ever read.",
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
    help='Read JSON lines {"text": ...} and write one result line per input line.',
)
@click.option("--finish-reason", default=None, help="finish_reason of the answer (e.g. length).")
@click.option("--verbose", "-v", is_flag=True, help="Print stage and repairs to stderr.")
def parse(
    schema_file: str | None,
    ref_files: tuple[str, ...],
    fmt: str,
    jsonl: bool,
    finish_reason: str | None,
    verbose: bool,
) -> None:
    """Parse model output from stdin into a schema-valid value, printed as JSON."""
    with fail_cleanly():
        if ref_files and not schema_file:
            raise click.UsageError("--ref-file needs --schema (the schema that refers to it)")
        schema = _load_schema_file(schema_file, ref_files) if schema_file else None
        if jsonl:
            _run_jsonl(sys.stdin.buffer, sys.stdout, schema, fmt)
            return
        from llmkit.structured import parse as parse_text

        data = sys.stdin.buffer.read()
        problem = _not_utf8(data, "stdin")
        if problem is not None:  # the wrong input, not an answer without a value
            raise BadInputError(problem)
        try:
            result = parse_text(data, schema, format=fmt, finish_reason=finish_reason)
        except Exception as exc:  # e.g. a $ref the validator cannot resolve
            raise BadInputError(f"{type(exc).__name__}: {_first_line(exc)}") from None
        if verbose:
            click.echo(
                f"stage: {result.stage}; repairs: {', '.join(result.repairs) or '-'}", err=True
            )
        if not result.ok:
            click.echo(f"error: {result.error}", err=True)
            raise SystemExit(1)
        out = result.to_dict()
        if "nonfinite_to_null" in out["notes"]:
            click.echo("note: nonfinite_to_null: NaN or infinity written as null", err=True)
        sys.stdout.write(json.dumps(out["value"], ensure_ascii=False, allow_nan=False) + "\n")
