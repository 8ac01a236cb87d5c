"""The automatic reply reaches the operators' Telegram like any message: the
conversation's topic shows the visitor's first message, then the reply, once."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from chat import services
from tests.telegram.e2e import texts_in_chat, visitor_says

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_redis]


async def test_the_automatic_reply_is_bridged_once(
    telegram_settings, start_bridge, connect_visitor
):
    api = telegram_settings
    await database_sync_to_async(services.update_business_hours)(
        values={"auto_reply_enabled": True, "auto_reply_en": "We are away right now."}
    )
    start_bridge()
    visitor = await connect_visitor()
    await visitor_says(visitor, "Is anyone there?", "Hello?")
    sent = await texts_in_chat(
        api, "Is anyone there?", "We are away right now.", "Hello?"
    )
    # Messages that waited for the group's budget may share one Telegram message.
    bridged = "\n".join(m["text"] for m in sent)
    assert bridged.count("We are away right now.") == 1
    assert (
        bridged.index("Is anyone there?")
        < bridged.index("We are away right now.")
        < bridged.index("Hello?")
    )
