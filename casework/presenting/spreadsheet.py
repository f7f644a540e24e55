"""CSV files as a spreadsheet opens them safely: a cell that starts like a formula is text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

#: What a spreadsheet would read as the start of a formula (or of a hidden one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: str) -> str:
    """A cell's text, with a leading quote where a spreadsheet would otherwise run it."""
    return "'" + value if value[:1] in FORMULA_STARTS else value


def csv_text(rows: Iterable[Iterable[str]]) -> str:
    """The text of a CSV file of these rows, every cell made safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue()
