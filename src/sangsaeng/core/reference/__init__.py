"""Reference data shared by every layer: KSIC industries, regions, size classes, revenue bands.

Shipped as data files beside this module; parsing and normalising user input lives here so every
form, import and API accepts the same spellings.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sangsaeng.core.i18n import get_locale

DATA_DIR = Path(__file__).parent


@dataclass(frozen=True)
class KsicEntry:
    code: str
    level: str  # section | division | group
    parent: str
    name_ko: str
    name_en: str

    @property
    def name(self) -> str:
        return self.name_en if get_locale() == "en" else self.name_ko


@dataclass(frozen=True)
class Region:
    code: str
    name_ko: str
    short_ko: str
    name_en: str

    @property
    def name(self) -> str:
        return self.name_en if get_locale() == "en" else self.name_ko


@dataclass(frozen=True)
class Kpi:
    """A key performance indicator of the catalogue (Programs and Outcomes extend it)."""

    code: str
    name_ko: str
    name_en: str
    unit: str
    direction: str  # "higher" or "lower" is better
    min_value: float | None
    max_value: float | None
    category: str = "operations"  # "operations" (공정·품질) or "business" (경영 성과)
    # How an improvement is computed: "relative" — the change as a fraction of the value before,
    # signed so that better is positive (defect rate: (before − after) / before); "difference"
    # — the change itself, signed the same way (counts that may start at 0: hires, incidents).
    improvement: str = "relative"

    @property
    def name(self) -> str:
        return self.name_en if get_locale() == "en" else self.name_ko


@dataclass(frozen=True)
class SizeClass:
    code: str
    name_ko: str
    name_en: str
    aliases: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.name_en if get_locale() == "en" else self.name_ko


SIZE_CLASSES: tuple[SizeClass, ...] = (
    SizeClass("large", "대기업", "Large enterprise", ("대", "대기업", "large", "l")),
    SizeClass(
        "midsize", "중견기업", "Mid-sized enterprise", ("중견", "중견기업", "midsize", "mid")
    ),
    SizeClass("sme", "중소기업", "SME", ("중소", "중소기업", "sme", "small")),
    SizeClass("micro", "소상공인", "Micro enterprise", ("소상공인", "소상", "micro")),
)

# Upper bounds in KRW (exclusive); the last band is open-ended. Editable in the database.
DEFAULT_REVENUE_BANDS: tuple[tuple[str, str, str, int, int | None], ...] = (
    ("lt1b", "10억 미만", "Under ₩1bn", 0, 1_000_000_000),
    ("1b-5b", "10억~50억", "₩1–5bn", 1_000_000_000, 5_000_000_000),
    ("5b-10b", "50억~100억", "₩5–10bn", 5_000_000_000, 10_000_000_000),
    ("10b-50b", "100억~500억", "₩10–50bn", 10_000_000_000, 50_000_000_000),
    ("50b-100b", "500억~1,000억", "₩50–100bn", 50_000_000_000, 100_000_000_000),
    ("100b-150b", "1,000억~1,500억", "₩100–150bn", 100_000_000_000, 150_000_000_000),
    ("ge150b", "1,500억 이상", "₩150bn and over", 150_000_000_000, None),
)


@cache
def ksic_table() -> dict[str, KsicEntry]:
    with (DATA_DIR / "ksic.csv").open(encoding="utf-8", newline="") as handle:
        return {row["code"]: KsicEntry(**row) for row in csv.DictReader(handle)}


def ksic_divisions() -> list[KsicEntry]:
    return [e for e in ksic_table().values() if e.level == "division"]


def ksic_entry(code: str) -> KsicEntry | None:
    return ksic_table().get(code)


_KSIC_INPUT = re.compile(r"^([A-Za-z])?\s*(\d{2,5})$")


def parse_ksic(value: str) -> str | None:
    """Normalise ``C29``, ``29``, ``291`` or ``C291`` to a known digit code, else ``None``.

    A section letter, when given, must agree with the division's section.
    """
    match = _KSIC_INPUT.match(value.strip().replace("-", "").replace(".", ""))
    if not match:
        return None
    letter, digits = match.groups()
    table = ksic_table()
    if digits not in table:
        return None
    division = table.get(digits[:2])
    if division is None:
        return None
    if letter and letter.upper() != division.parent:
        return None
    return digits


def ksic_division_of(code: str) -> KsicEntry | None:
    return ksic_table().get(code[:2])


def ksic_label(code: str) -> str:
    entry = ksic_table().get(code)
    if entry is None:
        return code
    division = ksic_division_of(code)
    section = division.parent if division else ""
    return f"{section}{code} {entry.name}"


@cache
def regions() -> tuple[Region, ...]:
    with (DATA_DIR / "regions.csv").open(encoding="utf-8", newline="") as handle:
        return tuple(Region(**row) for row in csv.DictReader(handle))


def region(code: str) -> Region | None:
    return next((r for r in regions() if r.code == code), None)


@cache
def _region_names() -> dict[str, str]:
    names = {}
    for r in regions():
        for name in (
            r.code,
            r.name_ko,
            r.short_ko,
            r.name_en.lower(),
            r.name_en.lower().removesuffix("-do"),
        ):
            names[name] = r.code
    return names


def parse_region(value: str) -> str | None:
    """Accept the code, the full or short Korean name, or the English name."""
    return _region_names().get(value.strip().lower())


def size_class(code: str) -> SizeClass | None:
    return next((s for s in SIZE_CLASSES if s.code == code), None)


def parse_size_class(value: str) -> str | None:
    needle = value.strip().lower()
    return next(
        (
            s.code
            for s in SIZE_CLASSES
            if needle in s.aliases or needle in (s.code, s.name_ko, s.name_en.lower())
        ),
        None,
    )


@cache
def kpis() -> dict[str, Kpi]:
    with (DATA_DIR / "kpis.csv").open(encoding="utf-8", newline="") as handle:
        return {
            row["code"]: Kpi(
                code=row["code"],
                name_ko=row["name_ko"],
                name_en=row["name_en"],
                unit=row["unit"],
                direction=row["direction"],
                min_value=float(row["min_value"]) if row["min_value"] else None,
                max_value=float(row["max_value"]) if row["max_value"] else None,
                category=row.get("category") or "operations",
                improvement=row.get("improvement") or "relative",
            )
            for row in csv.DictReader(handle)
        }


def kpi_name(code: str) -> str:
    """The KPI's name in the current language (the code itself if it is not catalogued)."""
    found = kpis().get(code)
    return found.name if found else code
