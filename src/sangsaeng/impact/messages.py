"""Messages stored with impact results ([msgid, params], possibly nested) in the user's language."""

from __future__ import annotations

from sangsaeng.core.i18n import gettext


def _is_pair(value: object) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], dict)
    )


def translate(pair) -> str:
    """``[msgid, params]`` in the current locale; a parameter that is itself a pair is
    translated first."""
    msgid, params = pair
    resolved = {k: translate(v) if _is_pair(v) else v for k, v in (params or {}).items()}
    return gettext(msgid, **resolved)
