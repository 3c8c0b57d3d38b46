"""A real uvicorn server over a freshly migrated, demo-seeded SQLite database, in a thread.

Shared by the browser tests (tests/e2e) and scripts/screenshot.py.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from alembic import command
from rich.console import Console

from sangsaeng.app import create_app
from sangsaeng.cli import alembic_config
from sangsaeng.core.files.service import LocalStorage
from sangsaeng.db import make_engine, make_session_factory
from sangsaeng.demo.seed import seed_database
from sangsaeng.settings import Settings

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@dataclass(frozen=True)
class SeededServer:
    base_url: str
    database_url: str

    def url(self, path: str) -> str:
        return self.base_url + path


def chromium_path() -> str | None:
    """The system Chromium (Debian's package); Playwright's own browsers are not downloaded."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def launch_chromium(playwright):
    return playwright.chromium.launch(
        executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
    )


def _wait_healthy(base_url: str, thread: threading.Thread, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the uvicorn server thread exited during start-up")
        try:
            with urllib.request.urlopen(base_url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{base_url}/healthz did not answer within {timeout:.0f}s")


@contextmanager
def seeded_server(
    tmp_dir: Path, *, seed: int = 2026, sme_count: int = 300
) -> Iterator[SeededServer]:
    """Migrate and seed a SQLite database under ``tmp_dir``, then serve the app on a free
    127.0.0.1 port until the block ends."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{tmp_dir / 'e2e.db'}"
    command.upgrade(alembic_config(database_url), "head")
    seed_engine = make_engine(database_url)
    try:
        seed_database(
            make_session_factory(seed_engine),
            seed=seed,
            sme_count=sme_count,
            console=Console(quiet=True),
            # Where the server reads files: documents, and factory datasets beside them.
            storage=LocalStorage(tmp_dir / "data" / "files"),
        )
    finally:
        seed_engine.dispose()

    settings = Settings(
        database_url=database_url,
        data_dir=tmp_dir / "data",
        secret_key="e2e-secret-key",
        jobs_immediate=True,  # jobs run in the server process: no separate worker in the test
    )
    app = create_app(settings)
    # Bind the socket here and hand it to uvicorn: the port is ours before the server starts.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="e2e-uvicorn", daemon=True
    )
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base_url, thread)
        yield SeededServer(base_url=base_url, database_url=database_url)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        app.state.engine.dispose()
