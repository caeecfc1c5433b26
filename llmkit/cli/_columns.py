"""Plain-text columns for the commands of the base install (``llmkit log``, ``taxonomy``).

The base install carries no terminal-rendering library (rich and Pygments are 14 MiB, a
fifth of it), so its commands print aligned columns that read the same on a terminal, in
a pipe and under ``grep``/``awk``. The extras' reports draw rich tables
(:func:`llmkit.cli._common.make_table`).

Cells are untrusted (model names and error types come from servers): control characters,
escape sequences included, are shown escaped, never sent to the terminal.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable, Sequence

__all__ = ["columns_text", "display_width", "printable", "safe_cell"]

_GAP = "  "


def printable(text: str, keep: str = "") -> str:
    """``text`` with every control character but those in ``keep`` shown escaped (``\\x1b``)."""
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() or ch in keep else ch.encode("unicode_escape").decode()
        for ch in text
    )


def safe_cell(value: object) -> str:
    """``value`` as one line of text, control characters (line breaks too) escaped."""
    return printable(str(value))


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide East Asian characters take two, combining
    marks none."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def columns_text(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    numeric: Collection[str] = (),
    title: str | None = None,
) -> str:
    """Rows under their headers, each column as wide as its widest cell, numbers right-aligned.

    Args:
        headers: column headers, in order; every row has one cell per header.
        rows: the cells (any value; shown with :func:`safe_cell`).
        numeric: the headers of columns holding numbers (right-aligned).
        title: a line above the table.

    Returns:
        The table as text ending in a newline; a table without rows still shows its headers.
    """
    cells = [[safe_cell(h) for h in headers]]
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"a row of {len(row)} cells under {len(headers)} headers")
        cells.append([safe_cell(c) for c in row])
    widths = [max(display_width(line[i]) for line in cells) for i in range(len(headers))]
    right = [h in numeric for h in headers]
    rule = ["-" * w for w in widths]
    lines = [] if title is None else [safe_cell(title)]
    for line in [cells[0], rule, *cells[1:]]:
        padded = []
        for text, width, to_right in zip(line, widths, right, strict=True):
            pad = " " * (width - display_width(text))
            padded.append(pad + text if to_right else text + pad)
        lines.append(_GAP.join(padded).rstrip())
    return "\n".join(lines) + "\n"
