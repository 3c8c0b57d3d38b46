"""Columns of an import: their names in Korean and English, and header synonyms."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str  # the value's name in the domain service
    label_ko: str
    label_en: str
    synonyms: tuple[str, ...]
    required: bool = False


# Unit suffixes first: the single-character class would otherwise eat their brackets and leave
# "매출액원" behind, which no synonym matches.
_NOISE = re.compile(r"\(원\)|\(명\)|\(krw\)|[\s_\-·.()\[\]{}/]|원$")


def normalise_header(text: str) -> str:
    """``'매출액(원)'``, ``'매출 액'`` and ``'Revenue_KRW'`` compare equal to their synonyms."""
    return _NOISE.sub("", text.strip().lower())


def auto_map(headers: list[str], columns: tuple[Column, ...]) -> dict[str, int]:
    """Column key → index in ``headers`` for every recognised header (first match wins)."""
    index_of = {}
    for position, header in enumerate(headers):
        name = normalise_header(header)
        for column in columns:
            names = {
                normalise_header(s) for s in (column.label_ko, column.label_en, *column.synonyms)
            }
            if name in names and column.key not in index_of:
                index_of[column.key] = position
                break
    return index_of
