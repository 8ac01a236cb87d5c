"""Operators, a linked Telegram account and the fake Bot API on 127.0.0.1."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from accounts import services
from tests.telegram.fakebot import FakeBotApi, FloodRules

PASSWORD = "correct horse battery staple"
CHAT_ID = "-1001234567890"
TELEGRAM_USER_ID = 424242
OTHER_TELEGRAM_USER_ID = 434343


@pytest.fixture
def fake_api() -> Iterator[FakeBotApi]:
    # These tests let time pass in the database only (a code made 61 s ago), so the
    # fake does not hold them to Telegram's flood limits, which count real seconds.
    api = FakeBotApi(flood=FloodRules.off())
    api.start()
    # The operators' private chats with the bot (they pressed Start when linking).
    api.add_chat(TELEGRAM_USER_ID, type="private", first_name="Ayşe")
    api.add_chat(OTHER_TELEGRAM_USER_ID, type="private", first_name="Mehmet")
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def telegram(settings: Any, fake_api: FakeBotApi) -> FakeBotApi:
    """This process configured for the fake bot: the second factor is on."""
    settings.TELEGRAM_BOT_TOKEN = fake_api.token
    settings.TELEGRAM_CHAT_ID = CHAT_ID
    settings.TELEGRAM_API_URL = fake_api.base_url.removesuffix("/bot")
    settings.TELEGRAM_ENABLED = True
    return fake_api


@pytest.fixture
def make_user(db: None) -> Callable[..., Any]:
    def make(username: str = "ayse", **fields: Any) -> Any:
        fields.setdefault("is_staff", True)
        return get_user_model().objects.create_user(
            username=username, password=PASSWORD, **fields
        )

    return make


@pytest.fixture
def operator(make_user: Callable[..., Any]) -> Any:
    """A staff user without a Telegram link."""
    return make_user("ayse")


def link(user: Any, telegram_user_id: int = TELEGRAM_USER_ID) -> Any:
    """Link ``user`` to a Telegram account the way the bot's /start does."""
    token = services.issue_link_token(user=user)
    return services.link_telegram(
        token=token, telegram_user_id=telegram_user_id, telegram_username="ayse_tg"
    )


@pytest.fixture
def linked_operator(operator: Any) -> Any:
    link(operator)
    return operator


def codes_sent(api: FakeBotApi, chat_id: int = TELEGRAM_USER_ID) -> list[str]:
    """The six-digit codes the bot sent to this private chat, oldest first."""
    found = []
    for message in api.sent_messages(chat_id=chat_id):
        match = re.search(r"\b(\d{6})\b", message.get("text", ""))
        if match:
            found.append(match.group(1))
    return found


def last_code(api: FakeBotApi, chat_id: int = TELEGRAM_USER_ID) -> str:
    sent = codes_sent(api, chat_id)
    assert sent, "the bot sent no code"
    return sent[-1]
