"""The admin sign-in: password, then the code the bot sends (or a recovery code)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from accounts import services
from accounts.models import LoginCode
from accounts.pending_login import PENDING_USER_SESSION_KEY
from accounts.selectors import SECOND_FACTOR_SESSION_KEY
from tests.accounts.conftest import (
    OTHER_TELEGRAM_USER_ID,
    PASSWORD,
    TELEGRAM_USER_ID,
    codes_sent,
    last_code,
    link,
)
from tests.telegram.fakebot import FakeBotApi

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
CODE = "/admin/login/code/"
RESEND = "/admin/login/code/resend/"
RECOVERY = "/admin/login/recovery/"
TELEGRAM_DOWN = (
    "We could not reach Telegram to send your code. Try again in a minute, or use a "
    "recovery code."
)


def password_step(client: Client, username: str = "ayse", **extra: str) -> Any:
    return client.post(
        LOGIN, {"username": username, "password": PASSWORD, **extra}, follow=False
    )


def is_signed_in(client: Client) -> bool:
    response = client.get("/admin/")
    return response.status_code == 200


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_password_then_code_signs_in(
    telegram: FakeBotApi, linked_operator: Any
) -> None:
    client = Client()
    response = password_step(client, next="/admin/inbox/")
    assert response.status_code == 302
    assert response["Location"].startswith(CODE)
    assert not is_signed_in(client)  # the password alone is not enough
    page = client.get(response["Location"])
    assert page.status_code == 200
    code = last_code(telegram)
    assert code.encode() not in page.content
    assert code not in str(dict(client.session))
    done = client.post(CODE, {"code": code, "next": "/admin/inbox/"})
    assert done.status_code == 302 and done["Location"] == "/admin/inbox/"
    assert client.session[SECOND_FACTOR_SESSION_KEY] == linked_operator.pk
    assert PENDING_USER_SESSION_KEY not in client.session
    assert client.get("/admin/inbox/").status_code == 200


def test_code_step_ignores_an_offsite_next(
    telegram: FakeBotApi, linked_operator: Any
) -> None:
    client = Client()
    password_step(client)
    done = client.post(
        CODE, {"code": last_code(telegram), "next": "https://evil.test/"}
    )
    assert done["Location"] == "/admin/"


def test_session_key_changes_when_the_password_is_accepted(
    telegram: FakeBotApi, linked_operator: Any
) -> None:
    client = Client()
    client.get(LOGIN)
    client.session.save()
    before = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    password_step(client)
    middle = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    client.post(CODE, {"code": last_code(telegram)})
    after = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert len({before, middle, after}) == 3


def test_wrong_password_sends_no_code(
    telegram: FakeBotApi, linked_operator: Any
) -> None:
    client = Client()
    response = client.post(LOGIN, {"username": "ayse", "password": "nope"})
    assert response.status_code == 200
    assert codes_sent(telegram) == []
    assert client.get(CODE)["Location"].startswith(LOGIN)


def test_wrong_code_five_times_kills_it_and_a_new_code_is_needed(
    telegram: FakeBotApi, linked_operator: Any
) -> None:
    client = Client()
    password_step(client)
    code = last_code(telegram)
    for _ in range(4):
        page = client.post(CODE, {"code": wrong(code)})
        assert "That code is not right" in page.content.decode()
        assert f'value="{wrong(code)}"' not in page.content.decode()
    page = client.post(CODE, {"code": wrong(code)})
    assert "Ask for a new code" in page.content.decode()
    refused = client.post(CODE, {"code": code})
    assert refused.status_code == 200 and not is_signed_in(client)
    # After the cool-down, a new code signs in.
    LoginCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    client.post(RESEND)
    fresh = last_code(telegram)
    assert len(codes_sent(telegram)) == 2
    assert client.post(CODE, {"code": fresh}).status_code == 302
    assert is_signed_in(client)


def test_expired_code_is_refused(telegram: FakeBotApi, linked_operator: Any) -> None:
    client = Client()
    password_step(client)
    LoginCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    page = client.post(CODE, {"code": last_code(telegram)})
    assert page.status_code == 200
    assert "has expired" in page.content.decode()
    assert not is_signed_in(client)


def test_a_used_code_does_not_sign_in_again(
    telegram: FakeBotApi, linked_operator: Any
) -> None:
    first = Client()
    password_step(first)
    code = last_code(telegram)
    assert first.post(CODE, {"code": code}).status_code == 302
    second = Client()
    password_step(second)  # a used code does not hold back a new one
    assert len(codes_sent(telegram)) == 2
    if last_code(telegram) == code:
        pytest.skip("the new code happens to equal the old one")
    page = second.post(CODE, {"code": code})
    assert page.status_code == 200 and not is_signed_in(second)


def test_resend_has_a_cooldown(telegram: FakeBotApi, linked_operator: Any) -> None:
    client = Client()
    password_step(client)
    page = client.get(CODE).content.decode()
    assert "You can ask for a new code in" in page
    response = client.post(RESEND, follow=True)
    assert "You can ask for a new one in" in response.content.decode()
    assert len(codes_sent(telegram)) == 1
    LoginCode.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    response = client.post(RESEND, follow=True)
    assert "A new code is on its way" in response.content.decode()
    assert len(codes_sent(telegram)) == 2


def test_resend_is_rate_limited_per_user(
    telegram: FakeBotApi, linked_operator: Any
) -> None:
    client = Client()
    password_step(client)
    for _ in range(3):
        LoginCode.objects.update(created_at=timezone.now() - timedelta(seconds=61))
        client.post(RESEND)
    assert len(codes_sent(telegram)) == 4
    LoginCode.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    response = client.post(RESEND, follow=True)
    assert "Too many new codes" in response.content.decode()
    assert len(codes_sent(telegram)) == 4


def test_telegram_down_says_so_plainly_and_does_not_sign_in(
    telegram: FakeBotApi, linked_operator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    telegram.fail_next("sendMessage", status=500)
    client = Client()
    with caplog.at_level(logging.WARNING, logger="accounts.password_views"):
        response = password_step(client)
        page = client.get(response["Location"])
    assert TELEGRAM_DOWN in page.content.decode()
    assert not is_signed_in(client)
    assert not LoginCode.objects.exists()
    warning = [r for r in caplog.records if r.name == "accounts.password_views"]
    assert warning and warning[0].levelno == logging.WARNING
    assert telegram.token not in caplog.text


def test_telegram_unreachable_then_resend_works(
    telegram: FakeBotApi, linked_operator: Any
) -> None:
    telegram.fail_next("sendMessage", status=502)
    client = Client()
    password_step(client)
    response = client.post(RESEND, follow=True)
    assert "A new code is on its way" in response.content.decode()
    assert client.post(CODE, {"code": last_code(telegram)}).status_code == 302


def test_recovery_code_signs_in_once(
    telegram: FakeBotApi, linked_operator: Any
) -> None:
    recovery = services.issue_recovery_codes(user=linked_operator)
    telegram.stop()  # Telegram is out of reach
    client = Client()
    page = client.get(password_step(client)["Location"])
    assert TELEGRAM_DOWN in page.content.decode()
    done = client.post(RECOVERY, {"code": recovery[0]}, follow=True)
    assert done.status_code == 200
    assert "9 are left" in done.content.decode()
    assert is_signed_in(client)

    again = Client()
    password_step(again)
    refused = again.post(RECOVERY, {"code": recovery[0]})
    assert refused.status_code == 200
    assert "not valid or was already used" in refused.content.decode()
    assert not is_signed_in(again)


def test_unlinked_operator_signs_in_with_the_password_alone(
    telegram: FakeBotApi, operator: Any
) -> None:
    client = Client()
    response = password_step(client)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert is_signed_in(client)
    assert telegram.calls("sendMessage") == []


def test_without_telegram_configured_a_linked_operator_needs_only_the_password(
    settings: Any, linked_operator: Any
) -> None:
    settings.TELEGRAM_ENABLED = False
    client = Client()
    assert password_step(client)["Location"] == "/admin/"
    assert is_signed_in(client)


def test_a_session_without_the_code_cannot_use_the_admin_or_the_inbox(
    telegram: FakeBotApi, linked_operator: Any
) -> None:
    client = Client()
    password_step(client)
    for path in ("/admin/", "/admin/inbox/", "/admin/chat/thread/", "/admin/telegram/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(LOGIN), path
    # Even an authenticated session (signed in before the link existed, say) is
    # refused until it enters a code.
    other = Client()
    other.force_login(linked_operator)
    assert other.get("/admin/").status_code == 302
    assert other.get("/admin/inbox/").status_code == 302


def test_a_session_verified_for_user_a_does_not_let_user_b_in(
    telegram: FakeBotApi, linked_operator: Any, make_user: Any
) -> None:
    mehmet = make_user("mehmet")
    link(mehmet, telegram_user_id=OTHER_TELEGRAM_USER_ID)
    client = Client()
    password_step(client)
    client.post(CODE, {"code": last_code(telegram)})
    assert is_signed_in(client)
    # Same browser, now Mehmet's password: Ayşe's verification does not carry over.
    response = password_step(client, username="mehmet")
    assert response["Location"].startswith(CODE)
    assert not is_signed_in(client)
    client.post(CODE, {"code": last_code(telegram, OTHER_TELEGRAM_USER_ID)})
    assert client.session[SECOND_FACTOR_SESSION_KEY] == mehmet.pk
    assert is_signed_in(client)


def test_force_logged_in_session_verified_for_another_user_is_refused(
    telegram: FakeBotApi, linked_operator: Any, make_user: Any
) -> None:
    mehmet = make_user("mehmet")
    link(mehmet, telegram_user_id=OTHER_TELEGRAM_USER_ID)
    client = Client()
    client.force_login(mehmet)
    session = client.session
    session[SECOND_FACTOR_SESSION_KEY] = linked_operator.pk
    session.save()
    assert client.get("/admin/").status_code == 302


def test_password_step_is_rate_limited_per_ip(
    telegram: FakeBotApi, operator: Any
) -> None:
    client = Client()
    for _ in range(10):
        client.post(LOGIN, {"username": "ayse", "password": "nope"})
    assert (
        client.post(LOGIN, {"username": "ayse", "password": PASSWORD}).status_code
        == 429
    )


def test_code_step_is_rate_limited_per_user(
    settings: Any, telegram: FakeBotApi, linked_operator: Any
) -> None:
    settings.SOHBET_LOGIN_CODE_ATTEMPTS = 100  # keep the code alive: test the limiter
    client = Client()
    password_step(client)
    code = last_code(telegram)
    for _ in range(10):
        client.post(CODE, {"code": wrong(code)}, REMOTE_ADDR="10.0.0.1")
    blocked = client.post(CODE, {"code": code}, REMOTE_ADDR="10.0.0.2")
    assert blocked.status_code == 429


def test_logout_still_ends_the_session(
    telegram: FakeBotApi, linked_operator: Any
) -> None:
    client = Client()
    password_step(client)
    client.post(CODE, {"code": last_code(telegram)})
    assert is_signed_in(client)
    client.post("/admin/logout/")
    assert not is_signed_in(client)


def test_one_account_is_slowed_whatever_the_addresses_it_is_tried_from(
    telegram: FakeBotApi, operator: Any, make_user: Any
) -> None:
    make_user("mehmet")
    client = Client()
    for n in range(10):
        client.post(
            LOGIN, {"username": "ayse", "password": "nope"}, REMOTE_ADDR=f"10.0.1.{n}"
        )
    # The right password from yet another address: refused before it is checked.
    blocked = password_step(client, REMOTE_ADDR="10.0.2.1")
    assert blocked.status_code == 429
    assert "Too many wrong passwords" in blocked.content.decode()
    assert not is_signed_in(client)
    # Other accounts are not held back.
    other = Client()
    assert password_step(other, username="mehmet", REMOTE_ADDR="10.0.2.1")[
        "Location"
    ] == ("/admin/")


# --- Codes bound to the attempt, capped per account, reported -------------------------


def test_a_code_sent_for_one_browser_does_not_sign_in_another(
    telegram: FakeBotApi, linked_operator: Any
) -> None:
    first, second = Client(), Client()
    password_step(first)
    code = last_code(telegram)
    password_step(second)  # the same password elsewhere, within the cool-down
    assert codes_sent(telegram) == [code]
    refused = second.post(CODE, {"code": code})
    assert refused.status_code == 200 and not is_signed_in(second)
    assert first.post(CODE, {"code": code}).status_code == 302
    assert is_signed_in(first)


def test_codes_sent_are_capped_per_account_per_hour_and_per_day(
    settings: Any, telegram: FakeBotApi, linked_operator: Any
) -> None:
    settings.SOHBET_LOGIN_CODE_RESEND_SECONDS = 0
    settings.SOHBET_LOGIN_CODES_PER_HOUR = 3
    settings.SOHBET_LOGIN_CODES_PER_DAY = 4
    for n in range(3):  # three browsers, three addresses
        password_step(Client(), REMOTE_ADDR=f"10.0.3.{n}")
    assert len(codes_sent(telegram)) == 3
    browser = Client()
    page = client_follow(browser, password_step(browser, REMOTE_ADDR="10.0.3.9"))
    assert "as many sign-in codes as allowed" in page
    assert len(codes_sent(telegram)) == 3
    # An hour later one more fits in the day, and no more.
    two_hours_ago = timezone.now() - timedelta(hours=2)
    LoginCode.objects.update(created_at=two_hours_ago, sent_at=two_hours_ago)
    password_step(Client())
    assert len(codes_sent(telegram)) == 4
    later = Client()
    assert "as many sign-in codes as allowed" in client_follow(
        later, password_step(later)
    )
    assert len(codes_sent(telegram)) == 4


def test_wrong_codes_from_every_browser_pause_codes_for_the_account(
    settings: Any, telegram: FakeBotApi, linked_operator: Any
) -> None:
    settings.SOHBET_LOGIN_CODE_RESEND_SECONDS = 0
    settings.SOHBET_LOGIN_CODE_FAILURES_PER_HOUR = 3
    first, second = Client(), Client()
    password_step(first)
    first_code = last_code(telegram)
    password_step(second)
    second_code = last_code(telegram)
    for client, code in (
        (first, first_code),
        (first, first_code),
        (second, second_code),
    ):
        client.post(CODE, {"code": wrong(code)})
    # Right code, but the account's wrong codes reached the cap: not even checked.
    paused = first.post(CODE, {"code": first_code})
    assert "codes are paused" in paused.content.decode()
    assert not is_signed_in(first)
    # A recovery code still signs in.
    recovery = services.issue_recovery_codes(user=linked_operator)
    assert second.post(RECOVERY, {"code": recovery[0]}).status_code == 302
    assert is_signed_in(second)


def test_the_operator_is_told_in_telegram_after_repeated_wrong_codes(
    settings: Any, telegram: FakeBotApi, linked_operator: Any
) -> None:
    settings.SOHBET_LOGIN_CODE_RESEND_SECONDS = 0
    client = Client()
    password_step(client)
    code = last_code(telegram)
    for _ in range(4):
        client.post(CODE, {"code": wrong(code)})
    assert not alerts(telegram)
    client.post(CODE, {"code": wrong(code)})
    [alert] = alerts(telegram)
    assert "5 wrong sign-in codes" in alert and "change your password" in alert
    # Told once an hour, however many more.
    client.post(RESEND)
    client.post(CODE, {"code": wrong(last_code(telegram))})
    assert len(alerts(telegram)) == 1


def alerts(api: FakeBotApi) -> list[str]:
    return [
        message["text"]
        for message in api.sent_messages(chat_id=TELEGRAM_USER_ID)
        if "wrong sign-in code" in message.get("text", "")
    ]


def client_follow(client: Client, response: Any) -> str:
    return client.get(response["Location"]).content.decode()
