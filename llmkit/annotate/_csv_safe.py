"""CSV cells that a spreadsheet will not run as formulas (OWASP's CSV injection advice).

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
leading ``'``, so Excel, LibreOffice and Sheets show it as text. Only CSV is changed:
JSONL exports keep the raw values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FORMULA_STARTS", "csv_cell", "csv_safe"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """``value`` with a ``'`` in front when it is text a spreadsheet would evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are safe to open in a spreadsheet."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(csv_cell)
    return out
