"""PDF reports from HTML (WeasyPrint) with the vendored Korean font, so Hangul renders anywhere."""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

FONT_DIR = Path(__file__).parent / "web" / "static" / "fonts"

# The family name the report stylesheets use; bound to the vendored files, never a system font.
FONT_FACE_CSS = f"""
@font-face {{ font-family: "Sangsaeng Sans"; font-weight: 400;
  src: url("{(FONT_DIR / "NotoSansKR-Regular.ttf").as_uri()}"); }}
@font-face {{ font-family: "Sangsaeng Sans"; font-weight: 700;
  src: url("{(FONT_DIR / "NotoSansKR-Bold.ttf").as_uri()}"); }}
"""


def html_to_pdf(html: str) -> bytes:
    """Render a self-contained HTML document (inline CSS and SVG only) to PDF bytes."""
    from weasyprint import CSS, HTML  # imported lazily: loading Pango costs ~0.5 s
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    stylesheet = CSS(string=FONT_FACE_CSS, font_config=fonts)
    document = HTML(string=html, base_url=str(FONT_DIR))
    return document.write_pdf(stylesheets=[stylesheet], font_config=fonts)


def svg_radar(
    labels: list[str], series: list[tuple[str, list[float], str]], size: int = 260
) -> str:
    """A radar chart as inline SVG (0–100 scale) for PDFs, where no JavaScript runs.

    ``series``: (name, values, colour) per polygon; values in the order of ``labels``.
    """
    n = len(labels)
    centre = size / 2
    radius = size / 2 - 48
    if n < 3:
        return ""

    def point(index: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * index / n
        r = radius * max(0.0, min(100.0, value)) / 100
        return centre + r * math.cos(angle), centre + r * math.sin(angle)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" font-family="Sangsaeng Sans" font-size="9">'
    ]
    for ring in (20, 40, 60, 80, 100):
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, ring) for i in range(n)))
        parts.append(f'<polygon points="{pts}" fill="none" stroke="#ccd3dc" stroke-width="0.6"/>')
    for i, label in enumerate(labels):
        x, y = point(i, 100)
        lx, ly = point(i, 118)
        anchor = "middle" if abs(lx - centre) < 4 else ("start" if lx > centre else "end")
        parts.append(
            f'<line x1="{centre}" y1="{centre}" x2="{x:.1f}" y2="{y:.1f}" '
            'stroke="#ccd3dc" stroke-width="0.6"/>'
        )
        parts.append(
            f'<text x="{lx:.1f}" y="{ly + 3:.1f}" text-anchor="{anchor}">{escape(label)}</text>'
        )
    for _name, values, colour in series:
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, v) for i, v in enumerate(values)))
        parts.append(
            f'<polygon points="{pts}" fill="{colour}" fill-opacity="0.18" '
            f'stroke="{colour}" stroke-width="1.6"/>'
        )
    parts.append("</svg>")
    return "".join(parts)
