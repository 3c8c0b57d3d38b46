"""Settings from environment variables (prefix ``SANGSAENG_``)."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SANGSAENG_", extra="ignore")

    database_url: str = "sqlite:///./sangsaeng.db"
    redis_url: str | None = None
    # smtp://user:password@host:25?from=noreply@example.kr (smtp+starttls://…:587 or
    # smtps://…:465 for TLS); unset: mail stays
    # in the outbox for an administrator to see.
    smtp_url: str | None = Field(default=None, repr=False)
    data_dir: Path = Path("./data")
    secret_key: str | None = Field(default=None, repr=False)

    default_locale: str = "ko"
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    # "auto": Secure cookies and HSTS when the request arrived over https (directly or via proxy).
    cookie_secure: str = "auto"
    login_max_failures: int = 10
    login_window_minutes: int = 5
    password_reset_hours: int = 24
    # Registry-wide dashboard counts are reused this long per process (0 = always fresh).
    dashboard_cache_seconds: float = 30
    # Run jobs inside the submitting process instead of the worker (tests, single-process demos).
    jobs_immediate: bool = False
    spark_master: str | None = None  # e.g. local[4] or spark://host:7077: factory analyses on Spark

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated on first run and kept in the data directory."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker process wrote it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
