"""``/info`` in Telegram: who the visitor is, where they are now, what the host site
told of them, and their other conversations (telegram_bridge/info.py)."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from chat.models import Thread, Visitor
from tests.telegram.e2e import OPERATOR_TG_ID, open_topic, texts_in_chat

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_redis]

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


async def test_info_tells_the_visitors_page_browser_time_and_attributes(
    operator_bridge: Any, connect_visitor: Any
) -> None:
    api = operator_bridge
    visitor = await connect_visitor()
    await visitor.send(
        type="visitor.context",
        url="https://shop.example/pricing",
        title="Pricing",
        referrer="https://www.google.com/",
        timezone="Asia/Tokyo",
        language="ja-JP",
        attributes={"plan": "pro", "trial": True},
    )
    topic_id = await open_topic(api, visitor, "a question about plans")
    visitor_id = visitor.hello["visitor"]["id"]

    @database_sync_to_async
    def identified_with_an_earlier_conversation() -> int:
        Visitor.objects.filter(pk=visitor_id).update(
            user_agent=FIREFOX, email="k@example.com", country="JP"
        )
        return Thread.objects.create(visitor_id=visitor_id, status="closed").pk

    other = await identified_with_an_earlier_conversation()
    api.push_update(
        api.command("/info", user_id=OPERATOR_TG_ID, message_thread_id=topic_id)
    )
    [reply] = [
        m
        for m in await texts_in_chat(api, "Page: Pricing")
        if "Page: Pricing" in m["text"]
    ]
    text = reply["text"]
    for line in (
        "Page: Pricing — https://shop.example/pricing",
        "Came from: https://www.google.com/",
        "Browser: Firefox 121 · Linux",
        "Language: ja-JP",
        "(Asia/Tokyo)",
        "Country: \U0001f1ef\U0001f1f5 JP",
        "Email: k@example.com (not verified)",
        "Visits: 1",
        "  plan: pro",
        "  trial: yes",
        "Earlier conversations:",
    ):
        assert line in text, line
    # The conversation asked about, and the other one listed under it.
    assert f"#{other}" in text and f"#{visitor.hello['thread']['id']}" in text
