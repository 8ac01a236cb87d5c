"""/admin/telegram/: an operator links their Telegram account, sees their recovery
codes once, makes new ones, unlinks."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from accounts import services
from accounts.models import TelegramLink
from tests.accounts.conftest import TELEGRAM_USER_ID, link
from tests.telegram.fakebot import BOT_USERNAME, FakeBotApi

pytestmark = pytest.mark.django_db

PAGE = "/admin/telegram/"
CODE_RE = re.compile(r"<li>([a-z]{4}-[a-z]{4}-[a-z]{4})</li>")


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def deep_link_token(html: str) -> str:
    match = re.search(
        rf'href="https://t\.me/{BOT_USERNAME}\?start=([A-Za-z0-9_-]+)"', html
    )
    assert match, "no deep link on the page"
    return match.group(1)


def test_page_explains_how_to_configure_telegram_when_it_is_not(
    settings: Any, operator: Any
) -> None:
    settings.TELEGRAM_ENABLED = False
    page = signed_in(operator).get(PAGE).content.decode()
    assert "Telegram is not configured" in page
    assert "TELEGRAM_BOT_TOKEN" in page and "TELEGRAM_CHAT_ID" in page


def test_admin_pages_link_to_the_telegram_page(operator: Any) -> None:
    page = signed_in(operator).get("/admin/").content.decode()
    assert f'href="{PAGE}"' in page


def test_linking_shows_a_one_time_deep_link_then_the_recovery_codes_once(
    telegram: FakeBotApi, operator: Any
) -> None:
    client = signed_in(operator)
    assert "Link my Telegram account" in client.get(PAGE).content.decode()
    page = client.post(PAGE, {"action": "link"}).content.decode()
    token = deep_link_token(page)
    assert "Press Start" in page and "expires in 10 minutes" in page

    # The bot's /start handler calls the service with the token.
    services.link_telegram(
        token=token, telegram_user_id=TELEGRAM_USER_ID, telegram_username="ayse_tg"
    )

    # The session that was shown the link keeps its access, and sees the codes once.
    first = client.get(PAGE)
    assert first.status_code == 200
    html = first.content.decode()
    assert "@ayse_tg" in html
    codes = CODE_RE.findall(html)
    assert len(codes) == 10
    assert "will not be shown again" in html
    assert TelegramLink.objects.get(user=operator).recovery_codes_shown is True
    again = client.get(PAGE).content.decode()
    assert CODE_RE.findall(again) == []
    assert "10 recovery codes left" in again
    assert services.use_recovery_code(user=operator, code=codes[0]) is True
    assert client.get("/admin/").status_code == 200


def test_another_session_of_the_same_operator_needs_a_code_once_linked(
    telegram: FakeBotApi, operator: Any
) -> None:
    elsewhere = signed_in(operator)
    assert elsewhere.get("/admin/").status_code == 200
    link(operator)
    assert elsewhere.get("/admin/").status_code == 302


def test_link_page_says_so_when_telegram_is_unreachable(
    telegram: FakeBotApi, operator: Any
) -> None:
    telegram.fail_next("getMe", status=502)
    client = signed_in(operator)
    response = client.post(PAGE, {"action": "link"})
    html = response.content.decode()
    assert "We could not reach Telegram to create your link" in html
    assert "t.me/" not in html
    assert not operator.telegram_link_tokens.exists()


def test_new_recovery_codes_replace_the_old_ones(
    telegram: FakeBotApi, linked_operator: Any
) -> None:
    old = services.issue_recovery_codes(user=linked_operator)
    client = signed_in(linked_operator)
    session = client.session
    session["sohbet_2fa_user"] = linked_operator.pk
    session.save()
    page = client.post(PAGE, {"action": "recovery-codes"}).content.decode()
    fresh = CODE_RE.findall(page)
    assert len(fresh) == 10
    assert services.use_recovery_code(user=linked_operator, code=old[0]) is False
    assert services.use_recovery_code(user=linked_operator, code=fresh[0]) is True


def test_unlink_lets_the_password_alone_sign_in_again(
    telegram: FakeBotApi, linked_operator: Any
) -> None:
    client = signed_in(linked_operator)
    session = client.session
    session["sohbet_2fa_user"] = linked_operator.pk
    session.save()
    response = client.post(PAGE, {"action": "unlink"}, follow=True)
    assert "Your Telegram account is unlinked" in response.content.decode()
    assert not TelegramLink.objects.exists()
    assert client.get("/admin/").status_code == 200  # this session stays
    linked_operator.refresh_from_db()
    assert signed_in(linked_operator).get("/admin/").status_code == 200


def test_page_requires_a_staff_login(telegram: FakeBotApi) -> None:
    response = Client().get(PAGE)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
