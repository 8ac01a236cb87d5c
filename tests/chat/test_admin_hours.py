"""The business hours' page in the admin: ranges and holidays as typed, refusals
that change nothing, and what "now" means."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from chat import availability
from chat.models import BUSINESS_HOURS_ID, BusinessHours

pytestmark = pytest.mark.django_db

CHANGE_URL = f"/admin/chat/businesshours/{BUSINESS_HOURS_ID}/change/"


@pytest.fixture
def owner(django_user_model: Any) -> Client:
    user = django_user_model.objects.create_superuser("owner", password="x" * 12)
    client = Client()
    client.force_login(user)
    return client


def form_data(**changes: Any) -> dict[str, Any]:
    data = {
        "enabled": "on",
        "time_zone": "Europe/Istanbul",
        "monday": "09:00-12:00, 13:00-18:00",
        "tuesday": "09:00-18:00",
        "wednesday": "",
        "thursday": "",
        "friday": "22:00-02:00",
        "saturday": "",
        "sunday": "",
        "holiday_lines": "2026-12-31 New Year's Eve\n2027-04-23",
        "auto_reply_enabled": "on",
        "auto_reply_en": "We are closed.",
        "auto_reply_tr": "Kapalıyız.",
        "_save": "Save",
    }
    data.update(changes)
    return data


def test_the_list_opens_the_one_row_and_nothing_can_be_added(owner: Client) -> None:
    listing = owner.get("/admin/chat/businesshours/")
    assert listing.status_code == 302 and listing["Location"].endswith(CHANGE_URL)
    assert owner.get("/admin/chat/businesshours/add/").status_code == 403
    page = owner.get(CHANGE_URL)
    assert page.status_code == 200
    assert "Open: opening hours are not used." in page.content.decode()


def test_saving_stores_the_hours_holidays_and_reply(owner: Client) -> None:
    response = owner.post(CHANGE_URL, form_data())
    assert response.status_code == 302
    row = BusinessHours.objects.get()
    assert row.time_zone == "Europe/Istanbul"
    assert row.weekly == {
        "0": [["09:00", "12:00"], ["13:00", "18:00"]],
        "1": [["09:00", "18:00"]],
        "4": [["22:00", "02:00"]],
    }
    assert row.holidays == [["2026-12-31", "New Year's Eve"], ["2027-04-23", ""]]
    assert availability.automatic_reply_text("tr") == "Kapalıyız."
    page = owner.get(CHANGE_URL).content.decode()
    assert "09:00-12:00, 13:00-18:00" in page
    assert "2026-12-31 New Year&#x27;s Eve" in page


@pytest.mark.parametrize(
    "changes",
    [
        {"monday": "9 to 5"},
        {"holiday_lines": "31/12/2026 New Year's Eve"},
        {"time_zone": "Mars/Olympus"},
    ],
)
def test_bad_input_is_refused_and_nothing_changes(
    owner: Client, changes: dict[str, str]
) -> None:
    response = owner.post(CHANGE_URL, form_data(**changes))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not BusinessHours.objects.exists()


def test_the_page_says_when_the_team_opens_next(owner: Client) -> None:
    owner.post(CHANGE_URL, form_data(monday="", tuesday="", friday=""))
    page = owner.get(CHANGE_URL).content.decode()
    assert "Closed, with no opening in the coming year." in page
