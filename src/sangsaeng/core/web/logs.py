"""Keeps one-time secrets out of the server's access log."""

from __future__ import annotations

import logging
import re

# Password-reset links carry their token in the path: /reset/<token>.
_RESET_PATH = re.compile(r"(/reset/)[^\s?\"']+")


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(
                _RESET_PATH.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                for a in record.args
            )
        record.msg = _RESET_PATH.sub(r"\1[redacted]", str(record.msg))
        return True
