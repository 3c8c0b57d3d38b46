"""Extract the stylesheet Plotly injects at run time into a static file.

Plotly adds its CSS as <style> elements, which a CSP without 'unsafe-inline' blocks. Plotly skips
the injection when the page already has an element with id "plotly.js-style-global" and class
"no-inline-styles", so we serve the same rules as a file. Run after re-vendoring Plotly:

    .venv/bin/python scripts/vendor_plotly_css.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.server import launch_chromium  # noqa: E402

VENDOR = ROOT / "src/sangsaeng/core/web/static/vendor"
SCRIPT = VENDOR / "plotly-strict-3.7.0.min.js"
TARGET = VENDOR / "plotly-3.7.0.css"


def main() -> None:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        page.set_content("<html><head></head><body><div id='g'></div></body></html>")
        page.add_script_tag(content=SCRIPT.read_text(encoding="utf-8"))
        page.evaluate("Plotly.newPlot('g', [{type: 'bar', x: [1], y: [1]}])")
        rules = page.evaluate(
            """() => {
              const el = document.getElementById('plotly.js-style-global');
              return Array.from(el.sheet.cssRules).map(r => r.cssText).reverse();
            }"""
        )
        browser.close()
    header = "/* Plotly 3.7.0 global styles, extracted by scripts/vendor_plotly_css.py */\n"
    TARGET.write_text(header + "\n".join(rules) + "\n", encoding="utf-8")
    print(f"{len(rules)} rules written to {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
