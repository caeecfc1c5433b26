"""Cases kept in a ``.jsonl`` or ``.csv`` file beside the suite, named under ``cases:``.

A suite may list cases inline, name a file, or both::

    cases: cases.jsonl                 # the file alone
    cases:                             # or files beside inline cases
      - tickets.csv
      - {id: edge-case, vars: {message: "..."}}

JSONL: one JSON object per line with the case keys ``id``, ``vars``, ``expected``,
``tags``, ``repeat``, ``description`` (blank lines are skipped). CSV: a header row; the
columns ``id``, ``expected``, ``tags`` (separated by ``|`` or ``,``), ``repeat`` and
``description`` are those keys, ``expected.<path>`` columns build a mapping, and every
other column (optionally written ``vars.<name>``) is a template variable. Every value read
from a CSV stays the text written, so ``NO`` stays ``"NO"``; ``expected`` is read as JSON
only when it starts with ``{`` or ``[``.

Every problem is a :class:`SuiteError` naming the file and line.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llmkit.evals._errors import SuiteError

__all__ = ["CASE_FILE_SUFFIXES", "FileCase", "read_case_file"]

CASE_FILE_SUFFIXES = (".jsonl", ".csv")
_JSONL_KEYS = {"id", "vars", "expected", "tags", "repeat", "description"}
_CSV_KEYS = {"id", "expected", "tags", "repeat", "description"}
_MAX_BYTES = 64 * 1024 * 1024  # a case file is data an outsider may hand us: bound it

# (file, line, raw case mapping): the suite loader validates the mapping like an inline case
FileCase = tuple[str, int, dict[str, Any]]


def read_case_file(path: Path) -> list[FileCase]:
    """The cases of one ``.jsonl``/``.csv`` file as raw mappings with their line numbers.

    Raises:
        SuiteError: unreadable, too big, an unknown suffix or a malformed line (file:line).
    """
    where = str(path)
    if path.suffix.lower() not in CASE_FILE_SUFFIXES:
        raise SuiteError(
            f"a case file ends in {' or '.join(CASE_FILE_SUFFIXES)}", path=where, field="cases"
        )
    try:
        size = path.stat().st_size
        if size > _MAX_BYTES:
            raise SuiteError(f"case file over {_MAX_BYTES >> 20} MiB", path=where)
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise SuiteError(f"cannot read case file: {exc.strerror or exc}", path=where) from None
    except UnicodeDecodeError as exc:
        raise SuiteError(f"not UTF-8 text ({exc.reason})", path=where) from None
    reader: Callable[[str, str], list[FileCase]] = (
        _read_jsonl if path.suffix.lower() == ".jsonl" else _read_csv
    )
    cases = reader(where, text)
    if not cases:
        raise SuiteError("the case file holds no cases", path=where)
    return cases


def _read_jsonl(where: str, text: str) -> list[FileCase]:
    out: list[FileCase] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SuiteError(
                f"not JSON ({exc.msg} at column {exc.colno})", path=where, line=number
            ) from None
        if not isinstance(item, dict):
            raise SuiteError("expected a JSON object (one case)", path=where, line=number)
        for key in item:
            if key not in _JSONL_KEYS:
                raise SuiteError(
                    f"unknown key {key!r} (known: {', '.join(sorted(_JSONL_KEYS))})",
                    path=where,
                    line=number,
                    field=str(key),
                )
        out.append((where, number, item))
    return out


def _csv_line_starts(text: str) -> list[int]:
    """1-based line where each CSV record starts (a quoted value may span lines)."""
    starts: list[int] = []
    reader = csv.reader(text.splitlines(keepends=True))
    line = 1
    for _row in reader:
        starts.append(line)
        line = reader.line_num + 1
    return starts


def _read_csv(where: str, text: str) -> list[FileCase]:
    try:
        rows = list(csv.reader(text.splitlines(keepends=True), strict=True))
    except csv.Error as exc:
        raise SuiteError(f"not valid CSV: {exc}", path=where) from None
    starts = _csv_line_starts(text)
    if not rows:
        return []
    header = [h.strip() for h in rows[0]]
    seen: set[str] = set()
    for h in header:
        if not h:
            raise SuiteError("an empty column name in the header", path=where, line=1)
        if h in seen:
            raise SuiteError(f"duplicate column {h!r}", path=where, line=1)
        seen.add(h)
    out: list[FileCase] = []
    for row, number in zip(rows[1:], starts[1:], strict=True):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise SuiteError(
                f"{len(row)} values for {len(header)} columns", path=where, line=number
            )
        out.append((where, number, _csv_case(where, number, dict(zip(header, row, strict=True)))))
    return out


def _csv_case(where: str, number: int, cells: dict[str, str]) -> dict[str, Any]:
    case: dict[str, Any] = {"vars": {}}
    expected_fields: dict[str, Any] = {}
    for column, cell in cells.items():
        if column in _CSV_KEYS:
            if column == "tags":
                sep = "|" if "|" in cell else ","
                case["tags"] = [t.strip() for t in cell.split(sep) if t.strip()]
            elif column == "expected":
                if cell.strip() == "":
                    continue
                case["expected"] = _expected(where, number, cell)
            elif column == "repeat":
                if cell.strip():
                    case["repeat"] = cell.strip()
            else:
                case[column] = cell
        elif column.startswith("expected."):
            if cell != "":
                _put(expected_fields, column.removeprefix("expected.").split("."), cell)
        else:
            case["vars"][column.removeprefix("vars.")] = cell
    if expected_fields:
        if "expected" in case:
            raise SuiteError(
                "both an 'expected' and 'expected.<field>' columns have values",
                path=where,
                line=number,
                field="expected",
            )
        case["expected"] = expected_fields
    return case


def _expected(where: str, number: int, cell: str) -> Any:
    if cell.lstrip()[:1] not in ("{", "["):
        return cell
    try:
        return json.loads(cell)
    except json.JSONDecodeError as exc:
        raise SuiteError(
            f"'expected' starts like JSON but is not ({exc.msg})",
            path=where,
            line=number,
            field="expected",
        ) from None


def _put(target: dict[str, Any], keys: list[str], value: str) -> None:
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = value
