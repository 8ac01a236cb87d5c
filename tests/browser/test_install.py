"""The web manifest as Chromium sees it: its type, its icons, installability."""

from __future__ import annotations

import io
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer

pytestmark = pytest.mark.django_db(transaction=True)


def fetch(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - ours
        return response.headers["Content-Type"], response.read()


def test_the_manifest_has_its_type_and_png_icons_of_their_stated_size(
    daphne_server: LiveServer, browser: Any
) -> None:
    kind, body = fetch(daphne_server.url + "/static/manifest.webmanifest")
    assert kind == "application/manifest+json"
    manifest = json.loads(body)
    pngs = [icon for icon in manifest["icons"] if icon["type"] == "image/png"]
    assert {(i["sizes"], i["purpose"]) for i in pngs} >= {
        ("192x192", "any"),
        ("512x512", "any"),
        ("512x512", "maskable"),
    }
    for icon in pngs:
        kind, data = fetch(f"{daphne_server.url}/static/{icon['src']}")
        width, height = Image.open(io.BytesIO(data)).size
        assert (kind, f"{width}x{height}") == ("image/png", icon["sizes"])


def test_chromium_finds_the_chat_page_installable(
    daphne_server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    # A profile on disk: Chromium never offers to install from an incognito one.
    context = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS
    )
    try:
        page = context.new_page()
        page.goto(daphne_server.url + "/")
        page.wait_for_selector('#connection-state[data-state="open"]', state="attached")
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["errors"] == []
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
        icons = manifest["manifest"]["icons"]
        assert any(i["type"] == "image/png" and "512x512" in i["sizes"] for i in icons)
        touch = page.locator('link[rel="apple-touch-icon"]').get_attribute("href")
        kind, data = fetch(daphne_server.url + touch)
        assert kind == "image/png" and Image.open(io.BytesIO(data)).size == (180, 180)
    finally:
        context.close()
