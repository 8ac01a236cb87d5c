"""Whether the team is there, as people see it: the visitor's line (open, away,
back when, in their language and time zone), the operators' away switch and who of
the team is there in the inbox, the business hours' page; axe on what is new."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.sync_api import expect

from chat import services
from chat.models import BUSINESS_HOURS_ID
from tests.browser.conftest import LiveServer
from tests.browser.pages import SENT
from tests.browser.test_accessibility import assert_accessible, in_background
from tests.browser.test_widget import HostSite, host_page, host_site, open_panel

__all__ = ["host_site"]  # the widget's host pages, a fixture

pytestmark = pytest.mark.django_db(transaction=True)

ISTANBUL = ZoneInfo("Europe/Istanbul")
WEEKDAYS = {
    "en": (
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ),
    "tr": ("Pazartesi", "Salı", "Çarşamba", "Perşembe", "Cuma", "Cumartesi", "Pazar"),
}
HOURS_URL = f"/admin/chat/businesshours/{BUSINESS_HOURS_ID}/change/"


def set_hours(**values: Any) -> None:
    base: dict[str, Any] = {"enabled": True, "time_zone": "Europe/Istanbul"}
    in_background(services.update_business_hours, values={**base, **values})


def open_in_three_days() -> tuple[dict[str, list[list[str]]], int]:
    """Hours only on the weekday three days from now in Istanbul (closed until
    then, whatever the time now); and that weekday."""
    day = (dt.datetime.now(ISTANBUL) + dt.timedelta(days=3)).weekday()
    return {str(day): [["09:00", "17:00"]]}, day


@pytest.mark.parametrize(
    ("locale", "lang", "expected"),
    [
        ("en-GB", "en", "Back on {day} at 09:00"),
        ("tr-TR", "tr", "{day} saat 09:00 itibarıyla buradayız"),
    ],
)
def test_outside_the_hours_the_page_says_when_the_team_is_back(
    new_context: Any, locale: str, lang: str, expected: str
) -> None:
    weekly, day = open_in_three_days()
    set_hours(weekly=weekly)
    page = new_context(locale=locale, timezone_id="Europe/Istanbul").new_page()
    page.goto("/")
    expect(page.locator("#availability-text")).to_have_text(
        expected.format(day=WEEKDAYS[lang][day])
    )
    expect(page.locator("#availability")).to_have_attribute("data-open", "false")


def test_the_line_follows_the_operators_their_away_switch_and_the_hours(
    new_context: Any, visitor_page: Any, operator_page: Any, owner_page: Any
) -> None:
    visitor = visitor_page(new_context(timezone_id="UTC"))
    line = visitor.locator("#availability-text")
    expect(line).to_have_text("We will reply soon")
    inbox = operator_page()
    expect(line).to_have_text("An operator is online")

    switch = inbox.get_by_role("button", name="Away")
    expect(switch).to_have_attribute("aria-pressed", "false")
    switch.click()
    expect(switch).to_have_attribute("aria-pressed", "true")
    expect(line).to_have_text("We will reply soon")
    switch.click()
    expect(line).to_have_text("An operator is online")

    # The owner sets hours closed now: the open page is told at once.
    _weekly, day = open_in_three_days()
    owner = owner_page()
    owner.check("#id_enabled")
    owner.select_option("#id_time_zone", "Europe/Istanbul")
    owner.fill(f"#id_{WEEKDAYS['en'][day].lower()}", "09:00-17:00")
    owner.click('input[name="_save"]')
    expect(owner.locator(".messagelist")).to_be_visible()
    # 09:00 in Istanbul is 06:00 for this visitor, the same day.
    expect(line).to_have_text(f"Back on {WEEKDAYS['en'][day]} at 06:00")
    assert visitor.errors == [] and inbox.errors == []


def test_colleagues_see_who_is_away(operator_page: Any) -> None:
    ayse = operator_page("ayse")
    mehmet = operator_page("mehmet")
    seen = mehmet.locator('#team-list .team-member:has-text("ayse")')
    expect(seen).to_have_attribute("data-status", "online")
    ayse.get_by_role("button", name="Away").click()
    expect(seen).to_have_attribute("data-status", "away")
    expect(seen.locator(".team-status")).to_have_text("Away")
    assert_accessible(mehmet)


@pytest.fixture
def owner_page(new_context: Any, daphne_server: LiveServer) -> Any:
    """The business hours' page of the admin, for a superuser."""

    def open_page() -> Any:
        user = get_user_model().objects.create_superuser("owner", password="x" * 12)
        client = Client()
        client.force_login(user)
        context = new_context(timezone_id="Europe/Istanbul")
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
        page.goto(HOURS_URL)
        expect(page.locator("#id_monday")).to_be_visible()
        return page

    return open_page


def test_the_business_hours_page_passes_axe(owner_page: Any) -> None:
    page = owner_page()
    assert_accessible(page)
    page.fill("#id_monday", "9 to 5")
    page.click('input[name="_save"]')
    expect(page.locator(".errorlist")).to_contain_text("is not a time range")
    assert_accessible(page)


def test_the_widget_says_it_too_and_answers_a_first_message_once(
    new_context: Any, host_site: HostSite
) -> None:
    weekly, day = open_in_three_days()
    set_hours(weekly=weekly, auto_reply_enabled=True, auto_reply_en="Closed today.")
    page = host_page(
        new_context, host_site.allowed + "/", timezone_id="Europe/Istanbul"
    )
    frame = open_panel(page)
    expect(frame.locator("#availability-text")).to_have_text(
        f"Back on {WEEKDAYS['en'][day]} at 09:00"
    )
    bodies = frame.locator("#messages .message .body")
    frame.locator("#composer-input").fill("Hello?")
    frame.locator("#send-button").click()
    expect(bodies).to_have_text(["Hello?", "Closed today."])
    frame.locator("#composer-input").fill("Anyone?")
    frame.locator("#send-button").click()
    expect(frame.locator(SENT)).to_have_count(2)
    expect(bodies).to_have_text(["Hello?", "Closed today.", "Anyone?"])
    assert page.errors == []
