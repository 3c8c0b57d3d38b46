"""Take the README screenshot: the Korean dashboard of the demo operator, 1366x900.

    .venv/bin/python scripts/screenshot.py [--out docs/screenshot-dashboard.png]

Starts its own seeded server on a free local port (the same helper as the browser tests) and
drives Debian's chromium through Playwright; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.e2e.server when run as a plain script

from playwright.sync_api import sync_playwright  # noqa: E402
from tests.e2e.server import chromium_path, launch_chromium, seeded_server  # noqa: E402

from sangsaeng.demo.seed import DEMO_PASSWORD  # noqa: E402

OPERATOR_EMAIL = "operator@demo.sangsaeng.kr"
VIEWPORT = {"width": 1366, "height": 900}


def take(out: Path) -> list[str]:
    """Write the screenshot to ``out``; returns the console errors and warnings seen."""
    logged: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="sangsaeng-shot-") as tmp,
        seeded_server(Path(tmp)) as server,
        sync_playwright() as p,
    ):
        browser = launch_chromium(p)
        try:
            context = browser.new_context(
                base_url=server.base_url, viewport=VIEWPORT, locale="ko-KR"
            )
            page = context.new_page()

            def on_console(message) -> None:
                if message.type in ("error", "warning"):
                    logged.append(message.text)

            page.on("console", on_console)
            page.on("pageerror", lambda e: logged.append(f"pageerror: {e}"))
            page.goto("/login")
            page.fill("#email", OPERATOR_EMAIL)
            page.fill("#password", DEMO_PASSWORD)
            page.click("form.form button[type=submit]")
            page.wait_for_url(server.url("/"))
            # Every chart on the page has been drawn by Plotly, and the fonts are in.
            page.wait_for_function(
                "document.querySelectorAll('.chart').length > 0 && "
                "[...document.querySelectorAll('.chart')]"
                ".every(c => c.querySelector('.main-svg'))"
            )
            page.evaluate("document.fonts.ready")
            page.wait_for_load_state("networkidle")
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out), full_page=False)
            context.close()
        finally:
            browser.close()
    return logged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot-dashboard.png")
    args = parser.parse_args()
    if chromium_path() is None:
        print("needs Debian's chromium: apt-get install -y chromium", file=sys.stderr)
        return 1
    logged = take(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")
    for message in dict.fromkeys(logged):  # distinct, in order
        print(f"browser console: {message}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
