"""What a file really is, from its first bytes (never from its name or the browser's claim)."""

from __future__ import annotations

import io
import zipfile

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
UNKNOWN = "application/octet-stream"


def sniff(data: bytes) -> str:
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04"):
        return XLSX if _is_workbook(data) else UNKNOWN
    if data and b"\x00" not in data[:65536] and _is_text(data[:65536]):
        return CSV
    return UNKNOWN


def _is_workbook(data: bytes) -> bool:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)


def _is_text(head: bytes) -> bool:
    for encoding in ("utf-8", "cp949"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the end of the sample is still text.
            if exc.start >= len(head) - 3:
                return True
    return False
