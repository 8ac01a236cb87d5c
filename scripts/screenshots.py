"""Take the README's screenshots: a real server on a throw-away database, real pages.

    .venv/bin/python scripts/screenshots.py

Starts Daphne on 127.0.0.1 with a temporary SQLite database, signs an operator in,
has a visitor and the operator talk, and writes docs/images/visitor.png and
docs/images/inbox.png (and inbox-dark.png). Stops the server it started.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
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
        env={**env, "ADMIN_USERNAME": "deniz", "ADMIN_PASSWORD": "shots-only-password"},
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
        shoot(url)
    finally:
        server.terminate()
        server.wait(10)


def shoot(url: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        op = browser.new_context(base_url=url, viewport={"width": 1280, "height": 760})
        inbox = op.new_page()
        inbox.goto("/admin/login/?next=/admin/inbox/")
        inbox.fill("#id_username", "deniz")
        inbox.fill("#id_password", "shots-only-password")
        inbox.click("input[type=submit]")
        inbox.wait_for_selector(
            '#connection-state[data-state="open"]', state="attached"
        )

        visitors = []
        for name, lines in [
            (
                "Elif",
                ["Hi! Do you ship to Izmir?", "And is the Ethiopia roast in stock?"],
            ),
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
            page.wait_for_selector(
                '#connection-state[data-state="open"]', state="attached"
            )
            if name:
                page.click("#menu-button")
                page.fill("#name-input", name)
                page.press("#name-input", "Enter")
            for line in lines:
                page.fill("#composer-input", line)
                page.click("#send-button")
            page.wait_for_selector('#messages .author-visitor[data-status="sent"]')
            visitors.append(page)

        inbox.wait_for_selector("#thread-list [data-thread-id] >> text=Elif")
        inbox.locator("#thread-list [data-thread-id]").filter(has_text="Elif").click()
        inbox.wait_for_selector("#messages .author-visitor")
        inbox.fill(
            "#reply-input",
            "Hello Elif! Yes, we ship all over Türkiye in 1–2 days. "
            "The Ethiopia roast is in stock: https://example.com/ethiopia",
        )
        inbox.click("#reply-send")
        elif_page = visitors[0]
        elif_page.wait_for_selector("#messages .author-operator")
        elif_page.fill("#composer-input", "Great, thank you!")
        elif_page.click("#send-button")
        inbox.wait_for_selector("#messages .author-visitor >> nth=2")
        elif_page.fill("#composer-input", "One more")
        elif_page.wait_for_timeout(300)
        elif_page.fill("#composer-input", "")
        inbox.wait_for_timeout(500)  # let the last frames paint before the shot
        elif_page.screenshot(path=str(OUT / "visitor.png"))
        inbox.screenshot(path=str(OUT / "inbox.png"))
        inbox.emulate_media(color_scheme="dark")
        inbox.wait_for_timeout(300)
        inbox.screenshot(path=str(OUT / "inbox-dark.png"))
        browser.close()


if __name__ == "__main__":
    main()
