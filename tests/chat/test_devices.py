"""Continue on another device: codes shown once and for minutes, limits that make
guessing hopeless, a wrong code that changes nothing, signing a browser out."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from importlib import import_module
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.test import Client
from django.utils import timezone

from chat.models import DeviceCode, DeviceCodeAttempt, Thread, Visitor
from chat.services import devices, open_conversation
from chat.services.visitors import VISITOR_SESSION_KEY
from realtime import tokens
from realtime.consumer import CLOSE_RECHECK
from tests.chat.test_widget import new_session

pytestmark = pytest.mark.django_db(transaction=True)


def visitor_browser() -> Client:
    """A browser that opened the chat page (a session, its ids drawn, no row)."""
    client = Client()
    assert client.get("/").status_code == 200
    return client


def csrf(client: Client) -> dict[str, str]:
    return {"HTTP_X_CSRFTOKEN": client.cookies[settings.CSRF_COOKIE_NAME].value}


def get_code(client: Client) -> dict[str, Any]:
    response = client.post(
        "/device/code/", "{}", content_type="application/json", **csrf(client)
    )
    assert response.status_code == 200, response.content
    return dict(response.json())


def enter(client: Client, code: str) -> Any:
    return client.post("/continue/", {"code": code})


def visitor_of(client: Client) -> Any:
    return client.session.get(VISITOR_SESSION_KEY)


def test_a_code_attaches_another_browser_to_the_same_visitor_once() -> None:
    phone, laptop = visitor_browser(), Client()
    answer = get_code(phone)
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", answer["code"])
    assert answer["link"].endswith("/continue/#" + answer["code"].replace("-", ""))
    assert answer["qr"].startswith("data:image/svg+xml")
    visitor = Visitor.objects.get(pk=visitor_of(phone))  # written for the code
    assert Thread.objects.filter(visitor=visitor).count() == 1

    response = enter(laptop, answer["code"].lower().replace("-", " "))
    assert response.status_code == 302 and response["Location"] == "/"
    assert visitor_of(laptop) == visitor.pk
    assert visitor_of(phone) == visitor.pk  # the first device stays attached

    again = enter(Client(), answer["code"])
    assert again.status_code == 403
    assert "already used" in again.content.decode()


def test_only_a_hash_of_the_code_is_stored() -> None:
    code = get_code(visitor_browser())["code"].replace("-", "")
    row = DeviceCode.objects.get()
    assert code not in row.code_hash and len(row.code_hash) == 64


def test_an_expired_code_says_so_and_changes_nothing() -> None:
    phone, laptop = visitor_browser(), visitor_browser()
    code = get_code(phone)["code"]
    DeviceCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    before = visitor_of(laptop)
    response = enter(laptop, code)
    assert response.status_code == 403
    assert "expired" in response.content.decode()
    assert visitor_of(laptop) == before
    assert DeviceCode.objects.get().used_at is None


def test_a_wrong_code_says_so_and_changes_nothing() -> None:
    phone, laptop = visitor_browser(), visitor_browser()
    code = get_code(phone)["code"]
    wrong = ("3" if code[0] != "3" else "4") + code[1:]
    before = visitor_of(laptop)
    response = enter(laptop, wrong)
    assert response.status_code == 404
    assert "not right" in response.content.decode()
    assert visitor_of(laptop) == before
    assert DeviceCode.objects.get().used_at is None
    assert enter(laptop, "not a code").status_code == 400


def test_a_new_code_ends_the_earlier_one() -> None:
    phone = visitor_browser()
    first = get_code(phone)["code"]
    second = get_code(phone)["code"]
    assert enter(Client(), first).status_code == 403
    assert enter(Client(), second).status_code == 302


def test_codes_shown_are_limited_per_visitor() -> None:
    phone = visitor_browser()
    for _ in range(devices.ISSUED_PER_VISITOR):
        get_code(phone)
    response = phone.post(
        "/device/code/", "{}", content_type="application/json", **csrf(phone)
    )
    assert response.status_code == 429
    assert DeviceCode.objects.count() == devices.ISSUED_PER_VISITOR


def test_codes_shown_are_limited_per_client_network_whatever_the_session() -> None:
    for _ in range(devices.ISSUED_PER_CLIENT):
        get_code(visitor_browser())
    fresh = visitor_browser()  # a new session renews nothing
    response = fresh.post(
        "/device/code/", "{}", content_type="application/json", **csrf(fresh)
    )
    assert response.status_code == 429


def test_wrong_codes_are_limited_per_client_network_before_the_code_is_checked() -> (
    None
):
    code = get_code(visitor_browser())["code"]
    wrong = ("3" if code[0] != "3" else "4") + code[1:]
    for _ in range(devices.FAILED_PER_CLIENT_HOUR):
        assert enter(visitor_browser(), wrong).status_code == 404
    late = visitor_browser()
    before = visitor_of(late)
    response = enter(late, code)  # even the right one, past the limit
    assert response.status_code == 429
    assert visitor_of(late) == before
    assert DeviceCode.objects.get().used_at is None


def test_wrong_codes_are_limited_over_the_whole_site() -> None:
    code = get_code(visitor_browser())["code"]
    DeviceCodeAttempt.objects.bulk_create(
        DeviceCodeAttempt(client_key=f"other-{n}")
        for n in range(devices.FAILED_PER_SITE_HOUR)
    )
    assert enter(visitor_browser(), code).status_code == 429


def test_guessing_is_hopeless_within_the_limits() -> None:
    """The figure docs/security.md gives: with 100 codes alive at every moment, the
    most guesses the site takes in a day find one with a chance under 1 in 100,000."""
    space = len(devices.ALPHABET) ** devices.CODE_LENGTH
    guesses_per_day = devices.FAILED_PER_SITE_HOUR * 24
    assert guesses_per_day * 100 / space < 1e-5
    assert set(devices.ALPHABET).isdisjoint("01OIL")


def test_signing_out_forgets_the_visitor_on_this_browser_only() -> None:
    phone, laptop = visitor_browser(), Client()
    code = get_code(phone)["code"]
    enter(laptop, code)
    laptop.get("/")  # where the code lands
    visitor_id = visitor_of(phone)
    assert visitor_of(laptop) == visitor_id
    response = laptop.post(
        "/device/sign-out/", "{}", content_type="application/json", **csrf(laptop)
    )
    assert response.status_code == 200
    assert visitor_of(laptop) is None
    assert visitor_of(phone) == visitor_id
    # The laptop's next chat is a new one (on any database).
    assert laptop.get("/").status_code == 200
    assert open_conversation(laptop.session).visitor_id != visitor_id


def test_calls_need_the_pages_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/")
    response = client.post("/device/code/", "{}", content_type="application/json")
    assert response.status_code == 403
    assert not DeviceCode.objects.exists()


def test_the_widget_shows_and_takes_codes_with_its_token() -> None:
    phone_token, frame_token = new_session(), new_session()
    client = Client()
    answer = client.post(
        "/widget/device/code/",
        "{}",
        content_type="application/json",
        HTTP_X_SOHBET_VISITOR=phone_token,
    )
    assert answer.status_code == 200, answer.content
    assert "/continue/#" in answer.json()["link"]  # Sohbet's own page
    redeemed = client.post(
        "/widget/device/redeem/",
        {"code": answer.json()["code"]},
        content_type="application/json",
        HTTP_X_SOHBET_VISITOR=frame_token,
    )
    assert redeemed.status_code == 200, redeemed.content
    new_token = redeemed.json()["token"]
    assert new_token != frame_token  # the session's key was rotated
    assert not redeemed.cookies
    store = import_module(settings.SESSION_ENGINE).SessionStore
    phone = store(tokens.session_key(phone_token))
    frame = store(tokens.session_key(new_token))
    assert frame[VISITOR_SESSION_KEY] == phone[VISITOR_SESSION_KEY]


def test_widget_calls_never_use_the_cookies_session() -> None:
    browser = visitor_browser()
    response = browser.post(
        "/widget/device/code/", "{}", content_type="application/json", **csrf(browser)
    )
    assert response.status_code == 401
    assert not DeviceCode.objects.exists()


def _session(key: str) -> Any:
    return import_module(settings.SESSION_ENGINE).SessionStore(key)


@pytest.mark.asyncio
async def test_signing_out_closes_the_devices_sockets_and_the_next_is_a_new_chat(
    connect_visitor: Any,
) -> None:
    laptop = await connect_visitor(written=True)
    thread_id = laptop.hello["thread"]["id"]

    def sign_out() -> None:
        session = _session(laptop.cookie)
        devices.sign_out_device(session)
        session.save()

    await sync_to_async(sign_out)()
    assert await laptop.receive_close() == CLOSE_RECHECK
    again = await connect_visitor(laptop.cookie)
    assert again.hello["thread"]["id"] != thread_id


@pytest.mark.asyncio
async def test_a_redeemed_code_puts_both_devices_in_one_thread(
    connect_visitor: Any,
) -> None:
    phone = await connect_visitor(written=True)
    laptop = await connect_visitor()

    def attach() -> str:
        issued = devices.issue_device_code(_session(phone.cookie), client_key="k")
        session = _session(laptop.cookie)
        devices.redeem_device_code(session, code=issued.code, client_key="k")
        session.save()
        return str(session.session_key)

    new_key = await sync_to_async(attach)()
    assert await phone.receive_type("device.joined") == {"type": "device.joined"}
    assert await laptop.receive_close() == CLOSE_RECHECK  # reconnects with the new key
    moved = await connect_visitor(new_key)
    assert moved.hello["thread"]["id"] == phone.hello["thread"]["id"]
    await moved.send(type="message.send", client_id=str(uuid.uuid4()), body="Hi")
    heard = await phone.receive_type("message")
    assert heard["message"]["body"] == "Hi"
