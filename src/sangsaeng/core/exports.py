"""Spreadsheet exports (CSV for Korean Excel, and .xlsx) with formula injection neutralised."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# A cell starting with one of these is run as a formula by Excel or LibreOffice (CWE-1236).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")


def neutralize(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading apostrophe; NULs are dropped
    (neither CSV readers nor the xlsx format accept them)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if not isinstance(value, str):
        return value
    dangerous = value.startswith(FORMULA_TRIGGERS)
    value = value.replace("\0", "")
    return "'" + value if dangerous else value


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 with a byte-order mark, so Korean Excel opens Hangul correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralize(h) for h in headers])
    for row in rows:
        writer.writerow(["" if v is None else neutralize(v) for v in row])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def to_xlsx(headers: Sequence[str], rows: Iterable[Sequence[object]], sheet: str = "data") -> bytes:
    return to_xlsx_sheets([(sheet, headers, rows)])


def to_xlsx_sheets(
    sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[object]]]],
) -> bytes:
    """One workbook, one sheet per (name, headers, rows), in order."""
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    for name, headers, rows in sheets:
        worksheet = workbook.create_sheet(_sheet_title(name, used))
        worksheet.append([_xlsx_safe(neutralize(h)) for h in headers])
        for row in rows:
            # Strings are written as text cells (never formulas) and still neutralised, because
            # a user may copy them into a formula bar or re-save the file as CSV.
            worksheet.append([_xlsx_safe(neutralize(v)) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_SHEET_FORBIDDEN = re.compile(r"[\\/?*\[\]:]")


def _sheet_title(name: str, used: set[str]) -> str:
    """Excel refuses titles over 31 characters, with []:*?/\\, or repeated (case-insensitive)."""
    base = _xlsx_safe(_SHEET_FORBIDDEN.sub(" ", name)).strip().strip("'")[:31] or "data"
    title, n = base, 1
    while title.casefold() in used:
        n += 1
        title = f"{base[: 31 - len(str(n)) - 1]}~{n}"
    used.add(title.casefold())
    return title


def _xlsx_safe(value: object) -> object:
    # The xlsx format cannot hold most control characters; they are dropped, not failed on.
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value
