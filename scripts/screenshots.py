"""Take the README's screenshots: a real server on a throw-away database, real pages.

    .venv/bin/python scripts/screenshots.py

Starts Daphne on 127.0.0.1 with a temporary SQLite database, signs an operator in,
has visitors and the operator talk (text, a photo, a link), and writes
docs/images/visitor.png and docs/images/inbox.png (and inbox-dark.png). Stops the
server it started. ``shoot`` is also run by the browser tests
(tests/browser/test_screenshots.py), so the pictures cannot silently go stale.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
# The throw-away database's operator, for these pictures only.
PASSWORD = "shots-only-password"  # noqa: S105
OUT = ROOT / "docs" / "images"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="sohbet-shots-"))
    env = {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "SQLITE_PATH": str(tmp / "db.sqlite3"),
        "SOHBET_SITE_NAME": "Kahve Dükkanı",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    py = sys.executable
    subprocess.run([py, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [py, "manage.py", "ensure_operator"],
        cwd=ROOT,
        check=True,
        env={**env, "ADMIN_USERNAME": "deniz", "ADMIN_PASSWORD": PASSWORD},
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            py,
            "-m",
            "chatsite.server",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "chatsite.asgi:application",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/healthz/", timeout=1)  # noqa: S310
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        shoot(url, OUT, username="deniz", password=PASSWORD)
    finally:
        server.terminate()
        server.wait(10)


def photo() -> bytes:
    """A picture for the visitor to send: a cup on a table, drawn."""
    image = Image.new("RGB", (640, 420), (214, 188, 160))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 300, 640, 420), fill=(120, 84, 60))
    draw.ellipse((230, 250, 450, 320), fill=(240, 236, 230))
    draw.rounded_rectangle((260, 150, 420, 290), radius=24, fill=(250, 248, 244))
    draw.ellipse((270, 150, 410, 185), fill=(92, 58, 38))
    draw.arc((400, 180, 470, 250), 270, 90, fill=(250, 248, 244), width=14)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def shoot(url: str, out: Path, *, username: str, password: str) -> None:
    """The README's pictures of the server at ``url`` into ``out``, signed in to
    the inbox as ``username``."""
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            _shoot(browser, url, out, username=username, password=password)
        finally:
            browser.close()


def _shoot(browser: Any, url: str, out: Path, *, username: str, password: str) -> None:
    op = browser.new_context(base_url=url, viewport={"width": 1280, "height": 760})
    inbox = op.new_page()
    inbox.goto("/admin/login/?next=/admin/inbox/")
    inbox.fill("#id_username", username)
    inbox.fill("#id_password", password)
    inbox.click("input[type=submit]")
    inbox.wait_for_selector('#connection-state[data-state="open"]', state="attached")

    visitors = []
    for name, lines in [
        ("Elif", ["Hi! Do you ship to Izmir?", "And is the Ethiopia roast in stock?"]),
        ("Murat", ["My order #1042 has not arrived yet"]),
        ("", ["Do you have gift cards?"]),
    ]:
        ctx = browser.new_context(
            base_url=url,
            viewport={"width": 390, "height": 760},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
        )
        page = ctx.new_page()
        page.goto("/")
        page.wait_for_selector('#connection-state[data-state="open"]', state="attached")
        if name:
            page.click("#menu-button")
            page.fill("#name-input", name)
            page.press("#name-input", "Enter")
        for line in lines:
            page.fill("#composer-input", line)
            page.click("#send-button")
        expect(page.locator('#messages [data-status="pending"]')).to_have_count(0)
        visitors.append(page)

    elif_page = visitors[0]
    # What the composer offers: files and voice notes, beside the text.
    expect(elif_page.locator("#attach-button")).to_be_visible()
    expect(elif_page.locator("#record-button")).to_be_visible()
    inbox.locator("#thread-list [data-thread-id]").filter(has_text="Elif").click()
    inbox.wait_for_selector("#messages .author-visitor")
    inbox.fill(
        "#reply-input",
        "Hello Elif! Yes, we ship all over Türkiye in 1–2 days. "
        "The Ethiopia roast is in stock: https://example.com/ethiopia",
    )
    inbox.click("#reply-send")
    elif_page.wait_for_selector("#messages .author-operator")
    elif_page.set_input_files(
        "#file-input",
        files=[{"name": "my-cup.jpg", "mimeType": "image/jpeg", "buffer": photo()}],
    )
    elif_page.fill("#composer-input", "Great, thank you! My last cup of it:")
    elif_page.click("#send-button")
    sent_photo = '#messages .message[data-attachment-kind="image"] img'
    for page, selector in (
        (elif_page, sent_photo),
        (inbox, "#messages .attachment-image img"),
    ):
        page.wait_for_function(
            "(s) => { const i = document.querySelector(s); return i && i.complete"
            " && i.naturalWidth > 0; }",
            arg=selector,
        )
    last = elif_page.locator("#messages .author-visitor").last
    expect(last).to_have_attribute("data-status", "read")
    expect(elif_page.locator("#toast")).to_be_hidden(timeout=10_000)
    for page in (elif_page, inbox):  # the last frames painted, the end in view
        page.evaluate("() => new Promise((done) => requestAnimationFrame(done))")
    elif_page.screenshot(path=str(out / "visitor.png"))
    inbox.screenshot(path=str(out / "inbox.png"))
    inbox.emulate_media(color_scheme="dark", reduced_motion="reduce")
    inbox.evaluate("() => new Promise((done) => requestAnimationFrame(done))")
    inbox.screenshot(path=str(out / "inbox-dark.png"))


if __name__ == "__main__":
    main()
