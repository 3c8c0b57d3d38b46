"""Money is integer KRW (원); shown as 원, 만원 or 억원."""

from __future__ import annotations

from decimal import Decimal

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


def split_by_shares(
    amount: int, shares: dict[str, Decimal], remainder_to: str | None = None
) -> dict[str, int]:
    """Split integer KRW by shares (fractions summing to 1) with the largest-remainder method.

    Each part first gets ⌊amount × share⌋; the won left over go one at a time to the parts with
    the largest fractional remainders (ties: the order of ``shares``). With ``remainder_to`` the
    whole leftover goes to that part instead (the rule an agreement may state). The parts always
    add up to ``amount`` exactly.
    """
    if amount < 0:
        raise ValueError("amount must not be negative")
    if not shares:
        raise ValueError("no shares")
    total = sum(shares.values(), Decimal(0))
    if any(s < 0 for s in shares.values()) or total != Decimal(1):
        raise ValueError("shares must be non-negative and add up to 1")
    if remainder_to is not None and remainder_to not in shares:
        raise ValueError("remainder_to must be one of the shares")
    exact = {k: Decimal(amount) * s for k, s in shares.items()}
    parts = {k: int(v) for k, v in exact.items()}  # floor: values are non-negative
    left = amount - sum(parts.values())
    if remainder_to is not None:
        parts[remainder_to] += left
        return parts
    order = sorted(shares, key=lambda k: (-(exact[k] - parts[k]), list(shares).index(k)))
    for key in order[:left]:
        parts[key] += 1
    return parts
