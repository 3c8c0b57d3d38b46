"""Money is integer KRW (원); shown as 원, 만원 or 억원."""

from __future__ import annotations

from sangsaeng.core.i18n import get_locale

_EOK = 100_000_000
_MAN = 10_000


def format_krw(amount: int | None) -> str:
    if amount is None:
        return "—"
    if get_locale() == "en":
        if abs(amount) >= 1_000_000_000:
            return f"₩{amount / 1_000_000_000:,.1f}bn"
        if abs(amount) >= 1_000_000:
            return f"₩{amount / 1_000_000:,.1f}m"
        return f"₩{amount:,}"
    if abs(amount) >= _EOK:
        value = amount / _EOK
        if value % 1 == 0:
            return f"{int(value):,}억원"
        return f"{value:,.2f}".rstrip("0") + "억원"
    if abs(amount) >= _MAN:
        return f"{amount // _MAN:,}만원"
    return f"{amount:,}원"
