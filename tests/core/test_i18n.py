"""Translations: the Korean catalog covers every message in the code and templates, and the
request language is chosen from cookie, query and (for the API) Accept-Language."""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from sangsaeng.core import i18n
from sangsaeng.core.i18n import Msg, gettext, locale_from_accept_language, normalize_locale

ROOT = Path(__file__).resolve().parents[2]
PO_FILE = ROOT / "src/sangsaeng/core/locales/ko/LC_MESSAGES/messages.po"
# The same keywords as the Makefile's `pybabel extract -k Msg -k _ -k gettext -k N_`.
KEYWORDS = {**DEFAULT_KEYWORDS, "Msg": None, "_": None, "gettext": None, "N_": None}


@cache
def extracted() -> dict[str, list[str]]:
    """msgid → places, extracted as `make i18n` does (babel.cfg, from the project root)."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    method_map = [
        (pattern, "jinja2.ext:babel_extract" if method == "jinja2" else method)
        for pattern, method in method_map
    ]
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


@cache
def korean_catalog():
    with PO_FILE.open("rb") as handle:
        return read_po(handle, locale="ko")


def placeholders(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


# ---------------------------------------------------------------- catalog completeness


def test_extraction_finds_code_and_template_messages():
    places = [p for where in extracted().values() for p in where]
    assert any(p.endswith(".py") or ".py:" in p for p in places)
    assert any(".html:" in p for p in places)
    assert "Dashboard" in extracted()  # a template string
    assert "Please check your input." in extracted()  # a Msg() in Python
    assert "Enter a whole number." in extracted()  # an N_() in a lookup table
    assert "Too many failed sign-in attempts. Please try again in {minutes} minutes." in extracted()


def test_every_message_has_a_korean_translation():
    catalog = korean_catalog()
    missing = []
    for msgid, places in sorted(extracted().items()):
        entry = catalog.get(msgid)
        if entry is None or not entry.string or not str(entry.string).strip() or entry.fuzzy:
            missing.append(f"{msgid!r} ({places[0]})")
    assert not missing, "untranslated — run `make i18n` and translate:\n" + "\n".join(missing)


def test_catalog_has_no_obsolete_or_stale_entries():
    catalog = korean_catalog()
    assert not catalog.obsolete, sorted(catalog.obsolete)
    stale = sorted(m.id for m in catalog if m.id and m.id not in extracted())
    assert not stale, f"no longer in the code or templates: {stale}"


def test_translations_keep_every_placeholder():
    wrong = []
    for message in korean_catalog():
        if not message.id or not message.string:
            continue
        if placeholders(message.id) != placeholders(message.string):
            wrong.append((message.id, message.string))
    assert not wrong


def test_loaded_catalog_matches_the_po_file():
    loaded = i18n.catalog("ko")
    for msgid in extracted():
        assert loaded.get(msgid), msgid
    assert i18n.catalog("en") == {}  # English is the message ids themselves


# ---------------------------------------------------------------- Accept-Language


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en", "en"),
        ("ko-KR", "ko"),
        ("en-US,en;q=0.9,ko;q=0.8", "en"),
        ("ko;q=0.5, en;q=0.9", "en"),
        ("fr-FR, fr;q=0.9, en;q=0.3, ko;q=0.2", "en"),
        ("fr, de;q=0.8", None),
        ("en;q=0.4, ko", "ko"),
        ("en;q=abc, ko;q=0.1", "ko"),
        (" EN-gb ; q=0.7 , ko ; q=0.6", "en"),
        ("*", None),
        ("", None),
        (None, None),
        # q=0 means "not acceptable" (RFC 9110, 12.4.2).
        ("en;q=0", None),
        ("fr, en;q=0, ko;q=0.1", "ko"),
        # Other parameters may come before the weight.
        ("en;level=1;q=0.5, ko;q=0.8", "ko"),
    ],
)
def test_accept_language(header, expected):
    assert locale_from_accept_language(header) == expected


def test_equal_weights_keep_the_header_order():
    assert locale_from_accept_language("ko;q=0.8, en;q=0.8") == "ko"
    assert locale_from_accept_language("en;q=0.8, ko;q=0.8") == "en"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ko", "ko"),
        ("en", "en"),
        ("ko_KR", "ko"),
        ("EN-us", "en"),
        (" en ", "en"),
        ("fr", None),
        ("", None),
        (None, None),
        ("korean", None),
    ],
)
def test_normalize_locale(value, expected):
    assert normalize_locale(value) == expected


# ---------------------------------------------------------------- lazy messages


@pytest.fixture
def locale():
    """Set the current locale for the test; restores the previous one afterwards."""
    tokens = []

    def use(code: str) -> None:
        tokens.append(i18n.set_locale(code))

    yield use
    for token in reversed(tokens):
        i18n.reset_locale(token)


def test_msg_is_translated_when_shown(locale):
    message = Msg("Dashboard")
    locale("ko")
    assert str(message) == "대시보드"
    locale("en")
    assert str(message) == "Dashboard"
    locale("ko")
    assert str(message) == "대시보드"


def test_msg_formats_its_parameters_in_each_language(locale):
    message = Msg("Use at least {n} characters.", n=8)
    locale("en")
    assert str(message) == "Use at least 8 characters."
    locale("ko")
    assert str(message) == "8자 이상 입력해 주십시오."


def test_unsupported_locale_falls_back_to_korean(locale):
    locale("fr")
    assert i18n.get_locale() == "ko"
    assert gettext("Dashboard") == "대시보드"


def test_unknown_message_falls_back_to_its_id(locale):
    locale("ko")
    assert gettext("No such message {x}", x=1) == "No such message 1"


def test_msg_equality_uses_id_and_parameters():
    assert Msg("Dashboard") == Msg("Dashboard")
    assert Msg("Use at least {n} characters.", n=8) != Msg("Use at least {n} characters.", n=9)
    assert len({Msg("Dashboard"), Msg("Dashboard")}) == 1
    assert Msg("Dashboard") != "Dashboard"


def test_reset_locale_restores_the_previous_one():
    outer = i18n.set_locale("en")
    try:
        inner = i18n.set_locale("ko")
        i18n.reset_locale(inner)
        assert i18n.get_locale() == "en"
    finally:
        i18n.reset_locale(outer)


# ---------------------------------------------------------------- the request's language


def test_pages_are_korean_first_but_the_api_honours_accept_language(client, db):
    english = {"Accept-Language": "en-US,en;q=0.9"}
    page = client.get("/login", headers=english)
    assert '<html lang="ko">' in page.text  # pages: Korean unless the visitor switches
    api = client.get("/api/v1/me", headers=english)
    assert api.json()["message"] == "Please sign in."
    assert client.get("/api/v1/me").json()["message"] == "로그인이 필요합니다."


def test_language_cookie_and_query_override(client, db):
    assert '<html lang="en">' in client.get("/login?lang=en").text
    client.cookies.set("ss_lang", "en")
    assert '<html lang="en">' in client.get("/login").text
    api = client.get("/api/v1/me", headers={"Accept-Language": "ko"})
    assert api.json()["message"] == "Please sign in."  # the explicit choice wins
    assert '<html lang="ko">' in client.get("/login?lang=ko").text
