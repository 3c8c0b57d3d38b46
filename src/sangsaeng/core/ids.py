"""Korean business registration numbers (사업자등록번호): validation and display."""

from __future__ import annotations

import re
import unicodedata

_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)
_SEPARATORS = re.compile(r"[\s\-.]")
_TEN_DIGITS = re.compile(r"[0-9]{10}")


def business_no_check_digit(first_nine: str) -> int:
    """The National Tax Service check digit for the first nine digits."""
    digits = [int(c) for c in first_nine]
    total = sum(d * w for d, w in zip(digits, _WEIGHTS, strict=True))
    total += (digits[8] * 5) // 10
    return (10 - total % 10) % 10


def normalize_business_no(value: str) -> str | None:
    """Ten digits if ``value`` is a valid number (separators allowed), else ``None``."""
    # Full-width digits (４２１…) are the same number; other Unicode digits are not digits here.
    digits = _SEPARATORS.sub("", unicodedata.normalize("NFKC", value or ""))
    if not _TEN_DIGITS.fullmatch(digits):
        return None
    if business_no_check_digit(digits[:9]) != int(digits[9]):
        return None
    return digits


def format_business_no(digits: str) -> str:
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"
