"""Browser-test fixtures: their own seeded server and Chromium, independent of the per-backend
``db``/``client`` fixtures of tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.e2e.server import SeededServer, chromium_path, launch_chromium, seeded_server


@pytest.fixture(scope="session")
def e2e_server(tmp_path_factory) -> Iterator[SeededServer]:
    with seeded_server(tmp_path_factory.mktemp("e2e")) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    if chromium_path() is None:
        pytest.skip("browser tests need Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        yield browser
        browser.close()


NOT_FOUND_LOAD = "Failed to load resource: the server responded with a status of 404"


@dataclass
class ConsoleLog:
    """Console errors and warnings (CSP violations are reported there) and uncaught JS errors."""

    messages: list[tuple[str, str, str]] = field(default_factory=list)  # (type, text, url)
    page_errors: list[str] = field(default_factory=list)

    def on_console(self, message) -> None:
        if message.type in ("error", "warning", "trace", "assert"):
            self.messages.append((message.type, message.text, message.location.get("url", "")))

    def on_page_error(self, error) -> None:
        self.page_errors.append(str(error))

    def problems(self, *, expected_404s: tuple[str, ...] = ()) -> list[str]:
        """Everything logged, except Chrome's note on loading one of ``expected_404s``."""
        return [
            f"[{kind}] {text} ({url})"
            for kind, text, url in self.messages
            if not (text.startswith(NOT_FOUND_LOAD) and url in expected_404s)
        ] + [f"[pageerror] {e}" for e in self.page_errors]


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


@pytest.fixture
def page(browser, e2e_server, console):
    context = browser.new_context(
        base_url=e2e_server.base_url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    yield page
    context.close()
