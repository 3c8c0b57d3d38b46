"""Korean-first translations from Babel ``.po`` catalogs, chosen per request via a context variable.

Message ids are English; ``locales/ko`` holds the Korean text. English is the fallback, so an
untranslated id still reads correctly in English (a test keeps the Korean catalog complete).
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

SUPPORTED_LOCALES = ("ko", "en")
DEFAULT_LOCALE = "ko"
LOCALES_DIR = Path(__file__).parent / "locales"

_current_locale: ContextVar[str] = ContextVar("sangsaeng_locale", default=DEFAULT_LOCALE)


def normalize_locale(value: str | None) -> str | None:
    if not value:
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if code in SUPPORTED_LOCALES else None


def locale_from_accept_language(header: str | None) -> str | None:
    """The first supported language in an Accept-Language header, by quality."""
    if not header:
        return None
    ranked = []
    for index, part in enumerate(header.split(",")):
        lang, *params = part.split(";")
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:  # q=0 means "not acceptable"
            continue
        ranked.append((-quality, index, lang))
    for _q, _i, lang in sorted(ranked):
        if code := normalize_locale(lang):
            return code
    return None


def set_locale(locale: str) -> Token[str]:
    return _current_locale.set(normalize_locale(locale) or DEFAULT_LOCALE)


def reset_locale(token: Token[str]) -> None:
    _current_locale.reset(token)


def get_locale() -> str:
    return _current_locale.get()


@lru_cache
def catalog(locale: str) -> dict[str, str]:
    path = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        parsed = read_po(handle, locale=locale)
    return {str(m.id): str(m.string) for m in parsed if m.id and m.string and not m.fuzzy}


def gettext(msgid: str, /, **params: object) -> str:
    text = catalog(get_locale()).get(msgid, msgid)
    return text.format(**params) if params else text


_ = gettext


def translate(pair) -> str:
    """A stored message ``[msgid, params]`` in the current locale; a parameter that is itself
    such a pair (engines nest labels in sentences) is translated first."""
    msgid, params = pair
    resolved = {k: translate(v) if _is_pair(v) else v for k, v in (params or {}).items()}
    return gettext(msgid, **resolved)


def _is_pair(value: object) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], dict)
    )


def N_(msgid: str) -> str:
    """Marks a string for extraction where it is translated later (e.g. in a lookup table)."""
    return msgid


class Msg:
    """A message translated when it is shown, not when it is created (errors cross threads)."""

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, /, **params: object) -> None:
        self.msgid = msgid
        self.params = params

    def __str__(self) -> str:
        return gettext(self.msgid, **self.params)

    def __repr__(self) -> str:
        return f"Msg({self.msgid!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Msg) and (self.msgid, self.params) == (other.msgid, other.params)

    def __hash__(self) -> int:
        return hash(self.msgid)
