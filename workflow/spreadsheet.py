"""Every CSV tatulasu writes, one row at a time, safe to open in a spreadsheet.

A CSV file is read by Excel or LibreOffice, which runs a cell starting with `=`, `+`,
`-` or `@` as a formula (and a tab or carriage return can hide such a start): a centre
named `=cmd|' /C calc'!A0` would run a command on the supervisor's machine ("CSV
injection"). Following OWASP, such a text cell is written with a leading single quote,
which the spreadsheet shows and does not evaluate. Only text is changed: numbers
(a negative count, a share) are not formulas and stay numbers.

The API's CSV is for programs: comma-separated, no byte-order mark. A file a person
downloads from the pages is for Excel as Kazakhstan runs it (Russian or Kazakh regional
settings): `;` between cells, and a UTF-8 byte-order mark, without which Excel reads
Cyrillic as Windows-1251 (`for_excel`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(cell: object) -> object:
    """`cell`, with a leading `'` if it is text a spreadsheet would run as a formula.

    >>> neutral("=cmd|' /C calc'!A0")
    "'=cmd|' /C calc'!A0"
    >>> neutral(-3), neutral("Өскемен")
    (-3, 'Өскемен')
    """
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


BOM = "\ufeff"


def row(cells: Iterable[object], delimiter: str = ",") -> str:
    """One CSV line (comma-separated, `\\n`-terminated) of neutralised cells.

    Written with a `\\r\\n` terminator so that `csv` quotes a cell holding a carriage
    return as well as one holding a line feed (a bare CR ends a row in a spreadsheet,
    and the rest of the cell would start a row of its own), then ended with `\\n`.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([neutral(c) for c in cells])
    return out.getvalue()[:-2] + "\n"


def for_excel(rows: Iterable[Iterable[object]]) -> str:
    r"""A whole file for Excel: the byte-order mark, then `;`-separated neutralised rows.

    >>> for_excel([["centre", "=1+1"], ["share, %", "81,1"]])
    "\ufeffcentre;'=1+1\nshare, %;81,1\n"
    """
    return BOM + "".join(row(cells, ";") for cells in rows)
