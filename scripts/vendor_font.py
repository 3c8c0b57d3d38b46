"""Vendor the Korean font used by PDFs and charts: Noto Sans KR (SIL OFL 1.1) from the npm registry.

The full TTFs are 6 MB per weight; we keep Regular and Bold, subset to what Korean business
documents use (Basic Latin and Latin-1, general punctuation, arrows, maths and box symbols, CJK
symbols, Hangul Jamo and all 11,172 Hangul syllables, full-width forms). Run from the repository
root:

    .venv/bin/python scripts/vendor_font.py
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from fontTools import subset

PACKAGE = "@expo-google-fonts/noto-sans-kr@0.4.3"
TARGET = Path("src/sangsaeng/core/web/static/fonts")
WEIGHTS = {"400Regular": "NotoSansKR-Regular.ttf", "700Bold": "NotoSansKR-Bold.ttf"}
UNICODES = (
    "U+0020-007E,U+00A0-00FF,U+2010-205E,U+20A9,U+2100-218F,U+2190-21FF,U+2200-22FF,"
    "U+2460-24FF,U+2500-25FF,U+2600-26FF,U+3000-303F,U+3130-318F,U+3200-32FF,U+AC00-D7A3,"
    "U+FF01-FFEF"
)


def main() -> None:
    TARGET.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        npm = shutil.which("npm") or "npm"
        subprocess.run([npm, "pack", PACKAGE, "--pack-destination", tmp], check=True)  # noqa: S603
        archive = next(Path(tmp).glob("*.tgz"))
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        package = Path(tmp) / "package"
        (TARGET / "OFL.txt").write_text((package / "LICENSE_FONT").read_text(encoding="utf-8"))
        for folder, name in WEIGHTS.items():
            source = package / folder / f"NotoSansKR_{folder}.ttf"
            subset.main(
                [
                    str(source),
                    f"--unicodes={UNICODES}",
                    f"--output-file={TARGET / name}",
                    "--layout-features=*",
                    "--no-hinting",
                ]
            )
            print(name, (TARGET / name).stat().st_size)


if __name__ == "__main__":
    main()
