"""The appearance set in the admin, as people see it: the visitor's page in the site's
colour and texts (each language its own), the admin's form with its live preview,
and both passing axe-core."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from chat import services
from chat.avatars import clean_avatar
from tests.browser.conftest import ROOT, LiveServer
from tests.browser.pages import SENT, send_as_visitor
from tests.browser.test_accessibility import assert_accessible
from tests.chat.test_appearance import conversation
from tests.samples import png

pytestmark = pytest.mark.django_db(transaction=True)

CHANGE_URL = "/admin/chat/appearance/1/change/"
YELLOW = "#ffcc00"  # white text fails AA on it: the page writes dark text


@pytest.fixture(autouse=True)
def media_of_the_server(settings: Any) -> None:
    # Avatars stored here must be where the browser tests' server reads them.
    settings.MEDIA_ROOT = ROOT / ".tmp" / "test-media"


def set_appearance(**values: Any) -> None:
    services.update_appearance(
        values={
            "color": YELLOW,
            "team_name_en": "Shop team",
            "team_name_tr": "Dükkan ekibi",
            "greeting_en": "Hello from the shop!",
            "greeting_tr": "Dükkandan merhaba!",
            **values,
        },
        new_avatars=[clean_avatar(png((90, 90), (0, 90, 40)), name="a.png")],
    )


def style(page: Any, selector: str, prop: str) -> str:
    return str(
        page.evaluate(
            "([s, p]) => getComputedStyle(document.querySelector(s))[p]",
            [selector, prop],
        )
    )


@pytest.mark.parametrize(
    ("locale", "team", "greeting"),
    [
        ("en-GB", "Shop team", "Hello from the shop!"),
        ("tr-TR", "Dükkan ekibi", "Dükkandan merhaba!"),
    ],
)
def test_the_page_wears_the_colour_and_the_texts_of_its_language(
    new_context: Any, locale: str, team: str, greeting: str
) -> None:
    set_appearance()
    page = new_context(locale=locale).new_page()
    page.goto("/")
    expect(page.locator("#site-name")).to_have_text(team)
    expect(page.locator("#welcome-text")).to_have_text(greeting)
    expect(page.locator("#team-avatars img")).to_have_count(1)
    page.wait_for_function(
        "() => document.querySelector('#team-avatars img').naturalWidth === 128"
    )
    assert style(page, "#send-button", "backgroundColor") == "rgb(255, 204, 0)"
    assert style(page, "#send-button", "color") == "rgb(17, 17, 17)"
    page.emulate_media(color_scheme="dark")
    assert style(page, "#send-button", "backgroundColor") == "rgb(255, 204, 0)"


def test_the_header_keeps_the_reply_time_once_connected(new_context: Any) -> None:
    for _ in range(5):
        conversation(dt.timedelta(days=1), dt.timedelta(minutes=3), now=timezone.now())
    page = new_context(locale="tr-TR").new_page()
    page.goto("/")
    expect(page.locator("#welcome")).to_be_visible()  # the server's hello is shown
    expect(page.locator("#availability-text")).to_have_text(
        "Genellikle birkaç dakika içinde yanıt verir"
    )


def test_the_default_colour_needs_no_style_sheet_of_its_own(new_context: Any) -> None:
    page = new_context().new_page()
    page.goto("/")
    assert page.locator('link[href^="/theme/"]').count() == 0
    assert style(page, "#send-button", "backgroundColor") == "rgb(79, 70, 229)"


def test_the_page_in_the_sites_colour_passes_axe(visitor_page: Any) -> None:
    set_appearance()
    page = visitor_page()
    expect(page.locator("#welcome")).to_be_visible()
    assert_accessible(page)
    send_as_visitor(page, "Is my order on its way? https://example.com/order/7")
    expect(page.locator(SENT)).to_have_count(1)
    assert_accessible(page)
    assert page.errors == []


@pytest.fixture
def owner_page(new_context: Any, daphne_server: LiveServer) -> Any:
    """The appearance page of the admin, for a superuser."""
    user = get_user_model().objects.create_superuser("owner", password="x" * 12)
    client = Client()
    client.force_login(user)
    context = new_context()
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": daphne_server.url,
            }
        ]
    )
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(CHANGE_URL)
    expect(page.locator("#appearance-preview")).to_be_visible()
    return page


def test_the_preview_follows_the_fields_as_they_change(owner_page: Any) -> None:
    page = owner_page
    launcher = page.locator("#preview-launcher")
    expect(launcher).to_have_attribute("data-icon-only", "true")
    page.fill("#id_color", YELLOW)
    page.fill("#id_launcher_label_en", "Talk to us")
    page.fill("#id_team_name_en", "Shop team")
    page.select_option("#id_position", "bottom-left")
    expect(page.locator("#preview-launcher-label")).to_have_text("Talk to us")
    expect(page.locator("#preview-team")).to_have_text("Shop team")
    expect(page.locator("#preview-greeting")).to_contain_text("Shop team")
    expect(page.locator("#appearance-stage")).to_have_attribute(
        "data-position", "bottom-left"
    )
    assert style(page, "#preview-launcher", "backgroundColor") == "rgb(255, 204, 0)"
    assert style(page, "#preview-launcher", "color") == "rgb(17, 17, 17)"
    page.fill("#id_greeting_tr", "Merhaba, nasıl yardımcı olabiliriz?")
    page.click('[data-preview-lang="tr"]')
    expect(page.locator("#preview-greeting")).to_have_text(
        "Merhaba, nasıl yardımcı olabiliriz?"
    )
    expect(page.locator("#preview-launcher-label")).to_have_text("")
    page.set_input_files(
        "#id_new_avatars",
        files=[
            {"name": "a.png", "mimeType": "image/png", "buffer": png((60, 60))},
        ],
    )
    expect(page.locator("#preview-avatars img")).to_have_count(1)
    assert page.errors == []


def test_the_admin_form_passes_axe(owner_page: Any) -> None:
    set_appearance()
    owner_page.reload()
    expect(owner_page.locator("#preview-avatars img")).to_have_count(1)
    assert_accessible(owner_page)
