"""The installable inbox and chat page in Chromium: the service worker (its
scope, its release-named caches, the offline page), notifications pushed to it
(CDP ServiceWorker.deliverPushMessage: Chromium's own push service is Google's,
out of reach), and the buttons that offer push."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveServer,
    collect_page_errors,
    start_daphne,
    stop_daphne,
)
from tests.push.conftest import VAPID_PRIVATE, VAPID_PUBLIC

pytestmark = pytest.mark.django_db(transaction=True)

WORKER_READY = """async () => {
  const registration = await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) {
    await new Promise((done) => navigator.serviceWorker.addEventListener(
      "controllerchange", done, { once: true }));
  }
  return { scope: registration.scope, caches: await caches.keys() };
}"""


@pytest.fixture(scope="module")
def push_server(test_db_name: str) -> Iterator[LiveServer]:
    server = start_daphne(
        test_db_name,
        env={
            "SOHBET_VAPID_PUBLIC_KEY": VAPID_PUBLIC,
            "SOHBET_VAPID_PRIVATE_KEY": VAPID_PRIVATE,
        },
    )
    yield server
    stop_daphne(server)


@pytest.fixture
def profile(browser: Any, tmp_path: Path) -> Iterator[Any]:
    """A Chromium profile on disk: Chromium installs nothing from an incognito one."""
    contexts: list[Any] = []

    def launch(**options: Any) -> Any:
        context = browser.browser_type.launch_persistent_context(
            str(tmp_path / f"profile-{len(contexts)}"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            **options,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield launch
    for context in contexts:
        context.close()


def deliver(cdp: Any, origin: str, registration_id: str, data: dict[str, Any]) -> None:
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": origin, "registrationId": registration_id, "data": json.dumps(data)},
    )


SHOWN = """async () => (await (await navigator.serviceWorker.ready).getNotifications())
  .map((n) => [n.tag, n.title, n.data.url, n.body])"""


def notifications_when(page: Any, done: Any, timeout: float = 5) -> list[Any]:
    """The worker's notifications once ``done(them)`` (within ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        shown = page.evaluate(SHOWN)
        if done(shown) or time.monotonic() > deadline:
            return shown
        page.wait_for_timeout(50)  # polling a condition with a deadline


def test_the_inbox_installs_shows_pushes_once_per_conversation_and_works_offline(
    push_server: LiveServer, profile: Any
) -> None:
    user = get_user_model().objects.create_user(
        username="ayse", password="correct horse battery staple", is_staff=True
    )
    client = Client()
    client.force_login(user)
    context = profile(permissions=["notifications"])
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": push_server.url,
            }
        ]
    )
    page = context.pages[0] if context.pages else context.new_page()
    errors = collect_page_errors(page)
    # A cache of an older release, left behind: the new worker deletes it.
    page.goto(push_server.url + "/offline/")
    page.evaluate("caches.open('sohbet-inbox-old')")
    page.goto(push_server.url + "/admin/inbox/")
    page.wait_for_selector('#connection-state[data-state="open"]', state="attached")
    worker = page.evaluate(WORKER_READY)
    assert worker["scope"] == push_server.url + "/admin/inbox/"
    [cache] = worker["caches"]  # this release's, and no other
    assert cache.startswith("sohbet-inbox-") and cache != "sohbet-inbox-old"

    cdp = context.new_cdp_session(page)
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    manifest = cdp.send("Page.getAppManifest")
    assert json.loads(manifest["data"])["start_url"] == "/admin/inbox/"
    # Push is on: the button subscribes this device (Chromium's push service is out
    # of reach here; the subscription itself is tested in tests/push/).
    assert page.locator("#enable-notifications").is_visible()

    registrations: list[dict[str, Any]] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    page.wait_for_function("true")  # let the registrations event arrive
    [registration] = [
        r for r in registrations if r["scopeURL"].endswith("/admin/inbox/")
    ][-1:]
    for body in ("first", "second"):
        deliver(
            cdp,
            push_server.url,
            registration["registrationId"],
            {
                "title": "Visitor #7",
                "body": body,
                "tag": "thread-7",
                "thread": 7,
                "url": "/admin/inbox/#thread-7",
            },
        )
    shown = notifications_when(
        page, lambda shown: len(shown) == 1 and shown[0][3] == "second"
    )
    url = push_server.url + "/admin/inbox/#thread-7"
    assert shown == [["thread-7", "Visitor #7", url, "second"]]

    assert errors == []

    # No network: our offline page, not the browser's error; back online, retry.
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("#offline-retry")
    assert page.locator("h1").inner_text() == "You are offline"
    context.set_offline(False)
    page.click("#offline-retry")
    page.wait_for_selector('#connection-state[data-state="open"]', state="attached")


def test_the_chat_page_offers_reply_notifications_and_is_offline_in_turkish(
    push_server: LiveServer, profile: Any
) -> None:
    context = profile(locale="tr-TR")
    page = context.pages[0] if context.pages else context.new_page()
    errors = collect_page_errors(page)
    page.goto(push_server.url + "/")
    page.wait_for_selector('#connection-state[data-state="open"]', state="attached")
    worker = page.evaluate(WORKER_READY)
    assert worker["scope"] == push_server.url + "/"
    cdp = context.new_cdp_session(page)
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []

    page.click("#menu-button")
    button = page.locator("#push-button")
    button.wait_for()
    assert button.inner_text() == "Yanıt verdiklerinde bana bildir"
    assert button.get_attribute("aria-pressed") == "false"
    assert errors == []

    context.set_offline(True)
    page.reload()
    page.wait_for_selector("#offline-retry")
    assert page.locator("h1").inner_text() == "Çevrimdışısınız"
    assert page.locator("#offline-retry").inner_text() == "Tekrar dene"
    context.set_offline(False)
