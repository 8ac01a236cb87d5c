"""``/r`` in Telegram: a canned reply sent from a conversation's topic, the list of
shortcuts, and an unknown shortcut (telegram_bridge/commands_canned.py)."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from chat.models import CannedReply, Message
from chat.services.canned import save_canned_reply
from chat.uploads import clean_upload
from tests.samples import png
from tests.telegram.e2e import (
    OPERATOR_TG_ID,
    open_topic,
    operator_message,
    texts_in_chat,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_redis]


@database_sync_to_async
def replies_for(user: Any) -> None:
    CannedReply.objects.create(
        shortcut="hello",
        title="Greeting",
        body="Hi {visitor_name}, I am {operator_name} of {team_name}.",
    )
    save_canned_reply(
        reply=CannedReply(
            shortcut="map", title="Where we are", body="Here is the map.", owner=user
        ),
        file=clean_upload(png(), name="map.png"),
    )


async def test_r_sends_a_canned_reply_lists_them_and_refuses_an_unknown_one(
    media_root: Any, operator_bridge: Any, connect_visitor: Any, settings: Any
) -> None:
    api = operator_bridge
    user = await get_user_model().objects.aget(username="ayse")  # linked
    await replies_for(user)
    visitor = await connect_visitor()
    await visitor.send(type="visitor.update", name="Murat")
    topic_id = await open_topic(api, visitor, "where are you?")

    def r(text: str) -> None:
        api.push_update(
            api.command(text, user_id=OPERATOR_TG_ID, message_thread_id=topic_id)
        )

    r("/r hello")
    message = await operator_message(visitor)
    team = settings.SOHBET_SITE_NAME
    assert message["body"] == f"Hi Murat, I am ayse of {team}."
    await texts_in_chat(api, f"Sent /hello:\nHi Murat, I am ayse of {team}.")

    r("/r MAP")  # case does not matter; the file comes along
    message = await operator_message(visitor)
    assert message["body"] == "Here is the map."
    assert message["attachment"]["name"] == "map.png"

    r("/r nothing")
    await texts_in_chat(api, "There is no saved reply “nothing”")
    r("/r")
    listed = await texts_in_chat(api, "/r hello — Greeting", "/r map — Where we are")
    assert listed
    sent = await database_sync_to_async(
        lambda: list(
            Message.objects.filter(author="operator").values_list("source", flat=True)
        )
    )()
    assert sent == ["telegram", "telegram"]  # not sent back to the topic
