"""Reading uploaded tables: CSV in UTF-8 (with or without BOM) or CP949/EUC-KR, and .xlsx.

The encoding is detected by strict decoding, never guessed silently: the result names the
encoding used, and a caller may force one. An .xlsx archive's entry count and uncompressed size
are checked before it is opened (zip bombs), and openpyxl parses XML through defusedxml.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass

from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.exports import FORMULA_TRIGGERS
from sangsaeng.core.i18n import Msg

ENCODINGS = ("utf-8", "cp949")
MAX_XLSX_ENTRIES = 2_000
MAX_XLSX_UNCOMPRESSED = 300 * 1024 * 1024
MAX_XLSX_RATIO = 200  # uncompressed ÷ compressed, per entry
MAX_ROWS = 1_000_000
MAX_XLSX_COLUMNS = 1_000
_XLSX_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]  # every row as long as the header (padded or cut), values stripped
    encoding: str  # "utf-8", "utf-8-sig", "cp949" or "xlsx"
    # Rows past the header that were cut because they had more cells than the header.
    ragged_rows: tuple[int, ...] = ()
    # Each row's number in the file as a spreadsheet shows it (blank rows still count);
    # empty when the rows follow the header directly (row i is number i + 2).
    row_numbers: tuple[int, ...] = ()

    def number(self, index: int) -> int:
        return self.row_numbers[index] if self.row_numbers else index + 2


def _refuse(reason: Msg) -> InvalidInput:
    return InvalidInput({"file": reason}, message=reason)


def decode(data: bytes, encoding: str = "auto") -> tuple[str, str]:
    """(text, encoding used). ``auto``: UTF-8 with BOM, else strict UTF-8, else strict CP949."""
    if encoding not in ("auto", *ENCODINGS):
        raise _refuse(Msg("Choose the file's encoding: auto, utf-8 or cp949."))
    if data.startswith(b"\xef\xbb\xbf") and encoding in ("auto", "utf-8"):
        candidates = ["utf-8-sig"]
    elif encoding == "auto":
        candidates = list(ENCODINGS)
    else:
        candidates = [encoding]
    for name in candidates:
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    if encoding == "auto":
        raise _refuse(
            Msg(
                "The file is neither UTF-8 nor CP949 (EUC-KR) text. Save it as CSV "
                "(UTF-8) or as an Excel workbook and try again."
            )
        )
    raise _refuse(
        Msg(
            "The file cannot be read as {encoding}. Try the automatic detection.", encoding=encoding
        )
    )


def _normalise(rows: list[list[str]]) -> tuple[list[str], list[list[str]], tuple, tuple]:
    # Blank rows are dropped but keep their place in the numbering, so that an error names the
    # row the user sees in the spreadsheet (the first row is 1).
    numbered = [(n, r) for n, r in enumerate(rows, start=1) if any(cell.strip() for cell in r)]
    if not numbered:
        raise _refuse(Msg("The file has no header row."))
    headers = [h.strip().lstrip("\ufeff") for h in numbered[0][1]]
    width = len(headers)
    body, ragged, numbers = [], [], []
    for number, row in numbered[1:]:
        cells = [_as_typed(c.strip()) for c in row]
        if len(cells) > width and any(cells[width:]):
            ragged.append(number)
        body.append((cells + [""] * width)[:width])
        numbers.append(number)
        if len(body) > MAX_ROWS:
            raise _refuse(
                Msg(
                    "The file has more than {n} rows. Split it and import the parts.",
                    n=f"{MAX_ROWS:,}",
                )
            )
    return headers, body, tuple(ragged), tuple(numbers)


def read_csv(data: bytes, encoding: str = "auto") -> Table:
    text, used = decode(data, encoding)
    if "\x00" in text:
        raise _refuse(Msg("The file contains NUL characters; it is not a text table."))
    try:
        sample = text[:10_000]
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample else csv.excel
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error as exc:
        raise _refuse(Msg("The CSV file is malformed: {reason}", reason=str(exc)[:200])) from exc
    headers, body, ragged, numbers = _normalise(rows)
    return Table(headers, body, used, ragged, numbers)


def _check_archive(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _refuse(Msg("The Excel file is damaged or incomplete.")) from exc
    if len(entries) > MAX_XLSX_ENTRIES:
        raise _refuse(Msg("The Excel file has too many parts to be a worksheet."))
    total = sum(e.file_size for e in entries)
    if total > MAX_XLSX_UNCOMPRESSED or any(
        e.compress_size
        and e.file_size / e.compress_size > MAX_XLSX_RATIO
        and e.file_size > 10 * 1024 * 1024
        for e in entries
    ):
        raise _refuse(Msg("The Excel file expands to more data than allowed."))


def read_xlsx(data: bytes) -> Table:
    _check_archive(data)
    # openpyxl parses the workbook's XML with defusedxml when it is installed (a dependency).
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        # The sheet's declared size is not trusted: openpyxl pads every row to it, so a tiny
        # sheet claiming A1:XFD1048576 would expand to 17 billion cells.
        sheet.reset_dimensions()
        rows = []
        for values in sheet.iter_rows(values_only=True):
            if values.count(None) == len(values):
                rows.append([])  # blank, but it keeps its row number
            else:
                if len(values) > MAX_XLSX_COLUMNS:
                    beyond = values[MAX_XLSX_COLUMNS:]
                    cut = beyond.count(None) != len(beyond)
                    # Cells past the limit are past any header: reported as a ragged row.
                    values = values[:MAX_XLSX_COLUMNS] + (("…",) if cut else ())
                rows.append(["" if v is None else _cell_text(v) for v in values])
            if len(rows) > MAX_ROWS + 1:
                break
        workbook.close()
    except InvalidInput:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise _refuse(Msg("The Excel file is damaged or incomplete.")) from exc
    headers, body, ragged, numbers = _normalise(rows)
    return Table(headers, body, "xlsx", ragged, numbers)


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 1234567890 as 1234567890.0
    return str(value)


def read_table(data: bytes, filename: str = "", encoding: str = "auto") -> Table:
    if not data:
        raise _refuse(Msg("The file is empty."))
    if data.startswith(_XLSX_MAGIC) or filename.lower().endswith(".xlsx"):
        return read_xlsx(data)
    return read_csv(data, encoding)


def _as_typed(cell: str) -> str:
    """Undo our exports' formula guard: ``'=x`` was typed as ``=x`` (the apostrophe is how
    spreadsheets mark text, and how the export neutralised it)."""
    if cell.startswith("'") and cell[1:2] in FORMULA_TRIGGERS and cell[1:2]:
        return cell[1:]
    return cell
