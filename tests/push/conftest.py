"""Push tests: the site's VAPID keys, a push service of our own on 127.0.0.1
(tests/push/pushserver.py) and browsers subscribed to it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import timezone

from chat.push import services
from chat.push.keys import new_vapid_keys
from chat.push.subscriptions import parse_subscription
from tests.push.pushserver import PushService

VAPID_PUBLIC, VAPID_PRIVATE = new_vapid_keys()


@pytest.fixture
def push_service(settings: Any) -> Iterator[PushService]:
    """Push on, with this service's host allowed (tests/settings.py)."""
    settings.SOHBET_PUSH_ENABLED = True
    settings.SOHBET_VAPID_PUBLIC_KEY = VAPID_PUBLIC
    settings.SOHBET_VAPID_PRIVATE_KEY = VAPID_PRIVATE
    settings.SOHBET_VAPID_SUBJECT = "mailto:team@example.com"
    service = PushService(VAPID_PUBLIC)
    service.start()
    yield service
    service.stop()


@pytest.fixture
def subscribe(push_service: PushService) -> Callable[..., dict[str, Any]]:
    """A new browser of an operator (``operator_id``) or a visitor, subscribed
    from a page in ``language``."""

    def make(language: str = "", **owner: int) -> dict[str, Any]:
        subscription = push_service.new_subscription()
        services.subscribe(
            info=parse_subscription(subscription), language=language, **owner
        )
        return subscription

    return make


def later(seconds: float = 60) -> dt.datetime:
    """A worker pass's clock, past the rows' delay."""
    return timezone.now() + dt.timedelta(seconds=seconds)
