"""Identifiers and reference data: business numbers, KSIC codes, regions, size classes, money."""

import pytest

from sangsaeng.core import i18n, reference
from sangsaeng.core.ids import business_no_check_digit, format_business_no, normalize_business_no
from sangsaeng.core.money import format_krw


@pytest.mark.parametrize("value", ["124-81-00998", "1248100998", "124 81 00998", "220-81-62517"])
def test_valid_business_numbers(value):
    digits = normalize_business_no(value)
    assert digits is not None and len(digits) == 10
    assert format_business_no(digits) == f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


@pytest.mark.parametrize("value", ["124-81-00997", "12481009", "abcdefghij", "", "124-81-009981"])
def test_invalid_business_numbers(value):
    assert normalize_business_no(value) is None


def test_check_digit_includes_the_carry_of_the_ninth_digit():
    # 9th digit 9: 9 × 5 = 45 adds 4 to the weighted sum (the National Tax Service rule).
    assert business_no_check_digit("124810099") == 8


def test_ksic_has_every_section_and_division_and_manufacturing_classes():
    table = reference.ksic_table()
    sections = [e for e in table.values() if e.level == "section"]
    divisions = reference.ksic_divisions()
    assert len(sections) == 21 and len(divisions) == 77
    for division in range(10, 35):
        assert any(e.level == "group" and e.parent == str(division) for e in table.values()), (
            division
        )
    assert table["35"].parent == "D" and table["62"].parent == "J"


@pytest.mark.parametrize(
    ("value", "code"),
    [("C29", "29"), ("29", "29"), ("291", "291"), ("c291", "291"), ("D35", "35"), ("J62", "62")],
)
def test_ksic_input_forms(value, code):
    assert reference.parse_ksic(value) == code


@pytest.mark.parametrize("value", ["C35", "X29", "00", "999", "", "C", "29a"])
def test_unknown_ksic_codes(value):
    assert reference.parse_ksic(value) is None


def test_regions_and_size_classes():
    assert len(reference.regions()) == 17
    assert reference.parse_region("경기") == reference.parse_region("경기도") == "41"
    assert reference.parse_region("Gyeonggi-do") == "41"
    assert reference.parse_region("세종특별자치시") == "36"
    assert reference.parse_region("평양") is None
    for short, code in [
        ("대", "large"),
        ("중견", "midsize"),
        ("중소", "sme"),
        ("소상공인", "micro"),
    ]:
        assert reference.parse_size_class(short) == code
    assert reference.parse_size_class("중소기업") == "sme"
    assert reference.parse_size_class("huge") is None


def test_money_formatting_in_both_languages():
    token = i18n.set_locale("ko")
    try:
        assert format_krw(4_500_000_000) == "45억원"
        assert format_krw(150_000_000) == "1.5억원"
        assert format_krw(3_000_000) == "300만원"
        assert format_krw(9_500) == "9,500원"
        assert format_krw(None) == "—"
    finally:
        i18n.reset_locale(token)
    token = i18n.set_locale("en")
    try:
        assert format_krw(4_500_000_000) == "₩4.5bn"
    finally:
        i18n.reset_locale(token)
