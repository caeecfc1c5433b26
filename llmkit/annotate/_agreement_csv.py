"""Reading long-format ratings CSV for ``llmkit annotate agreement``: strict, line-exact.

A clean file goes through pandas' C parser; anything unusual (quotes, blank lines, a bad
row) goes through :mod:`csv` row by row, so every error names its line.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from llmkit.annotate._agreement_core import AgreementDataError, _coerce_objects, coerce_values

__all__ = ["read_ratings_csv"]

_BLANK_LINE = re.compile(r"^[ \t\r\f\v]*$", re.MULTILINE)


def read_ratings_csv(source: str | Path | bytes | TextIO) -> pd.DataFrame:
    """Read long-format ratings CSV (``item,rater,value``) strictly.

    The header is matched without regard to case or surrounding spaces, a UTF-8 BOM is
    ignored, extra columns are ignored, and blank lines are skipped. Every field is
    stripped. A row with the wrong number of fields, an empty item, rater or value, or a
    second rating of the same item by the same rater raises
    :class:`AgreementDataError` naming its line.

    Returns:
        A frame with columns ``item``, ``rater`` (strings), ``value`` (numbers when every
        value parses, labels otherwise; see :func:`coerce_values`) and ``line``.
    """
    if isinstance(source, (str, Path, bytes)):
        raw = source if isinstance(source, bytes) else Path(source).read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise AgreementDataError("not UTF-8 text", line=line) from None
    else:
        text = source.read()
    text = text.removeprefix("\ufeff")
    fast = _read_fast(text)
    return fast if fast is not None else _read_strict(text)


def _frame(items: Any, raters: Any, values: Any, lines: Any) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item": pd.Series(items, dtype=object),
            "rater": pd.Series(raters, dtype=object),
            "value": coerce_values(pd.Series(values, dtype=object)),
            "line": pd.Series(lines, dtype=np.int64),
        }
    )


def _read_fast(text: str) -> pd.DataFrame | None:
    """pandas' C parser for the common clean file; None sends it to the strict reader.

    Anything unusual (a quote, which may hide a line break; a bad header, field count or
    empty field; a duplicate) returns None, and :func:`_read_strict` names the line.
    """
    trimmed = text.rstrip("\r\n")
    maybe_blank = trimmed[:1].isspace() or any(
        s in trimmed for s in ("\n\n", "\n\r\n", "\n ", "\n\t", "\r\r")
    )
    if '"' in text or (maybe_blank and _BLANK_LINE.search(trimmed)):
        return None
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, na_filter=False, engine="c")
    except (ValueError, pd.errors.ParserError):
        return None
    names = [str(c).strip().lower() for c in df.columns]
    n_lines = text.rstrip("\r\n").count("\n") + 1
    if n_lines != len(df) + 1 or any(names.count(n) != 1 for n in ("item", "rater", "value")):
        return None
    body = text[text.find("\n") + 1 :]
    spaced = any(s in body for s in (" ,", ", ", "\t", "\n ", " \n", " \r")) or (
        body[:1].isspace() or body[-1:] == " "
    )
    cols = {
        n: np.array(
            [v.strip() for v in df.iloc[:, names.index(n)]]
            if spaced
            else df.iloc[:, names.index(n)].to_numpy(),
            dtype=object,
        )
        for n in ("item", "rater", "value")
    }
    if any((col == "").any() for col in cols.values()):
        return None
    if pd.DataFrame({"i": cols["item"], "r": cols["rater"]}).duplicated().any():
        return None
    return pd.DataFrame(
        {
            "item": pd.Series(cols["item"], dtype=object),
            "rater": pd.Series(cols["rater"], dtype=object),
            "value": _coerce_objects(cols["value"], strip=False),
            "line": pd.Series(np.arange(2, len(df) + 2), dtype=np.int64),
        }
    )


def _read_strict(text: str) -> pd.DataFrame:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        while header is not None and not any(h.strip() for h in header):
            header = next(reader, None)
        if header is None:
            raise AgreementDataError("no header: expected columns item,rater,value", line=1)
        names = [h.strip().lower() for h in header]
        where: dict[str, int] = {}
        for name in ("item", "rater", "value"):
            if names.count(name) != 1:
                what = "lacks" if name not in names else "repeats"
                raise AgreementDataError(
                    f"header {what} column {name!r} (has {', '.join(names)})",
                    line=reader.line_num,
                )
            where[name] = names.index(name)
        items: list[str] = []
        raters: list[str] = []
        values: list[str] = []
        lines: list[int] = []
        seen: dict[tuple[str, str], int] = {}
        last = reader.line_num
        for row in reader:
            line, last = last + 1, reader.line_num
            if not any(f.strip() for f in row):
                continue
            if len(row) != len(names):
                raise AgreementDataError(
                    f"expected {len(names)} fields ({','.join(names)}), found {len(row)}",
                    line=line,
                )
            fields = {k: row[i].strip() for k, i in where.items()}
            for name in ("item", "rater", "value"):
                if not fields[name]:
                    raise AgreementDataError(f"empty {name}", line=line)
            pair = (fields["item"], fields["rater"])
            if pair in seen:
                raise AgreementDataError(
                    f"item {pair[0]!r} rated twice by rater {pair[1]!r} (first at line "
                    f"{seen[pair]}); one rating per item and rater",
                    line=line,
                )
            seen[pair] = line
            items.append(fields["item"])
            raters.append(fields["rater"])
            values.append(fields["value"])
            lines.append(line)
    except csv.Error as exc:
        raise AgreementDataError(f"malformed CSV: {exc}", line=reader.line_num) from None
    return _frame(items, raters, values, lines)
