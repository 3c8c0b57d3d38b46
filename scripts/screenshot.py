"""Take the README screenshots: the operator's Korean dashboard, an SME's diagnosis result and
the OEE of its demo production records.

    .venv/bin/python scripts/screenshot.py [--out-dir docs]

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
SME_EMAIL = "sme@demo.sangsaeng.kr"
VIEWPORT = {"width": 1366, "height": 900}


def _wait_for_charts(page) -> None:
    """Every chart on the page has been drawn by Plotly, and the fonts are in."""
    page.wait_for_function(
        "document.querySelectorAll('.chart').length > 0 && "
        "[...document.querySelectorAll('.chart')]"
        ".every(c => c.querySelector('.main-svg'))"
    )
    page.evaluate("document.fonts.ready")
    page.wait_for_load_state("networkidle")


def _sign_in(page, server, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(server.url("/"))


def take(out_dir: Path) -> list[str]:
    """Write both screenshots into ``out_dir``; returns the console errors and warnings seen."""
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
            out_dir.mkdir(parents=True, exist_ok=True)
            _sign_in(page, server, OPERATOR_EMAIL)
            _wait_for_charts(page)
            page.screenshot(path=str(out_dir / "screenshot-dashboard.png"), full_page=False)
            page.context.clear_cookies()
            _sign_in(page, server, SME_EMAIL)
            page.goto("/assessments")
            page.locator("table.table tbody a").first.click()
            _wait_for_charts(page)
            page.locator("#chart-radar").scroll_into_view_if_needed()
            page.evaluate("window.scrollBy(0, -160)")
            page.screenshot(path=str(out_dir / "screenshot-assessment.png"), full_page=False)
            page.goto("/factory")
            page.locator("#dataset-list a", has_text="생산실적").first.click()
            page.locator("#run-oee").click()
            page.locator("#analysis-run").click()
            page.wait_for_selector("#chart-pareto .main-svg", timeout=120_000)
            _wait_for_charts(page)
            page.locator("#cards").scroll_into_view_if_needed()
            page.evaluate("window.scrollBy(0, -120)")
            page.screenshot(path=str(out_dir / "screenshot-factory.png"), full_page=False)
            context.close()
        finally:
            browser.close()
    return logged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    if chromium_path() is None:
        print("needs Debian's chromium: apt-get install -y chromium", file=sys.stderr)
        return 1
    logged = take(args.out_dir)
    for name in ("screenshot-dashboard.png", "screenshot-assessment.png", "screenshot-factory.png"):
        path = args.out_dir / name
        print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
    for message in dict.fromkeys(logged):  # distinct, in order
        print(f"browser console: {message}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
