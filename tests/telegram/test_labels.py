"""``/label`` and ``/unlabel`` in a conversation's topic: the inbox's labels from
Telegram, live in every inbox (telegram_bridge/commands_labels.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.telegram.e2e import OPERATOR_TG_ID, open_topic, texts_in_chat

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_redis]


async def test_label_and_unlabel_in_a_topic_reach_the_inbox(
    operator_bridge: Any,
    connect_visitor: Any,
    connect_operator: Any,
    make_operator: Any,
) -> None:
    api = operator_bridge
    inbox = await connect_operator(await make_operator("colleague"))
    visitor = await connect_visitor()
    topic_id = await open_topic(api, visitor, "my invoice is wrong")
    thread = visitor.hello["thread"]["id"]

    api.push_update(
        api.command(
            "/label Billing", user_id=OPERATOR_TG_ID, message_thread_id=topic_id
        )
    )
    await texts_in_chat(api, f"Label “Billing” is on conversation #{thread}.")
    [label] = (await inbox.receive_type("labels"))["labels"]
    assert label["name"] == "Billing"
    frame = await inbox.receive_type("thread.labels")
    assert frame["thread"] == thread and frame["labels"] == [label["id"]]

    api.push_update(
        api.command(
            "/unlabel billing", user_id=OPERATOR_TG_ID, message_thread_id=topic_id
        )
    )
    await texts_in_chat(api, f"Label “Billing” is off conversation #{thread}.")
    assert (await inbox.receive_type("thread.labels"))["labels"] == []
    api.push_update(
        api.command(
            "/unlabel Billing", user_id=OPERATOR_TG_ID, message_thread_id=topic_id
        )
    )
    await texts_in_chat(api, f"Conversation #{thread} has no label “Billing”.")
