"""Render the PNG icons of the web manifest from the SVG sources, in Chromium.

    .venv/bin/python scripts/icons.py

static/icons/icon.svg (rounded, transparent corners) gives icon-192.png and
icon-512.png ("any"); icon-maskable.svg (full bleed, the mark inside the safe zone)
gives icon-maskable-512.png and apple-touch-icon.png (180 px: iOS puts no mask on
transparency, it fills it with black).
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

ICONS = Path(__file__).resolve().parents[1] / "static" / "icons"
RENDERS = [
    ("icon.svg", 192, "icon-192.png"),
    ("icon.svg", 512, "icon-512.png"),
    ("icon-maskable.svg", 512, "icon-maskable-512.png"),
    ("icon-maskable.svg", 180, "apple-touch-icon.png"),
]


def main() -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"]
        )
        for source, size, target in RENDERS:
            page = browser.new_page(viewport={"width": size, "height": size})
            svg = (ICONS / source).read_text()
            page.set_content(
                "<style>html,body{margin:0;background:transparent}"
                "svg{display:block;width:100vw;height:100vh}</style>" + svg
            )
            shot = page.screenshot(omit_background=True)
            page.close()
            image = Image.open(io.BytesIO(shot))
            if not image.getextrema()[-1][0] < 255:  # opaque: no alpha channel
                image = image.convert("RGB")
            image.save(ICONS / target, optimize=True)
        browser.close()


if __name__ == "__main__":
    main()
