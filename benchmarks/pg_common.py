"""What the PostgreSQL benchmarks share: a throwaway database on a loopback server."""

from __future__ import annotations

import argparse
import re
from urllib.parse import urlsplit, urlunsplit

import psycopg

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def check_target(parser: argparse.ArgumentParser, admin_url: str, db_name: str) -> None:
    """Benchmarks only ever create and drop their own database on this machine."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", db_name):
        parser.error("--db-name must be a plain lower-case identifier")
    if (urlsplit(admin_url).hostname or "") not in LOOPBACK:
        parser.error("--admin-url must point at a loopback host (127.0.0.1)")


def database_url(admin_url: str, name: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


def create_database(admin_url: str, name: str) -> None:
    """A new empty database ``name`` (an earlier one of that name is dropped)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
