"""One away switch for an operator, in the web inbox and in Telegram (/away,
/online): a change in one is seen in the other and by visitors."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from accounts.selectors import SECOND_FACTOR_SESSION_KEY
from tests.conftest import Socket, open_socket
from tests.telegram.e2e import OPERATOR_TG_ID, link_operator, texts_in_chat

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_redis]


@sync_to_async
def signed_in(user: Any) -> str:
    """A session that gave the password and the Telegram code."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[SECOND_FACTOR_SESSION_KEY] = user.pk
    session.save()
    return session.session_key or ""


async def open_inbox(user: Any, sockets: list[Socket]) -> Socket:
    socket, connected = await open_socket("/ws/operator/", cookie=await signed_in(user))
    assert connected
    sockets.append(socket)
    socket.hello = await socket.receive_type("hello")
    return socket


async def test_away_in_the_inbox_then_online_in_telegram(
    telegram_settings, start_bridge, make_operator, connect_visitor, sockets
):
    api = telegram_settings
    start_bridge()
    user = await link_operator(api, make_operator)
    inbox = await open_inbox(user, sockets)
    visitor = await connect_visitor()
    assert visitor.hello["operators_online"] is True

    await inbox.send(type="operator.away", away=True)
    assert (await inbox.receive_type("away"))["away"] is True
    assert (await visitor.receive_type("presence"))["operators_online"] is False

    api.push_update(api.command("/online", user_id=OPERATOR_TG_ID))
    assert (await inbox.receive_type("away", timeout=10))["away"] is False
    assert (await visitor.receive_type("presence", timeout=10))[
        "operators_online"
    ] is True
    await texts_in_chat(api, "You are online")


async def test_away_in_telegram_is_away_in_the_inbox(
    telegram_settings, start_bridge, make_operator, connect_visitor, sockets
):
    api = telegram_settings
    start_bridge()
    user = await link_operator(api, make_operator)
    inbox = await open_inbox(user, sockets)
    colleague = await open_inbox(await make_operator("mehmet"), sockets)
    visitor = await connect_visitor()
    assert visitor.hello["operators_online"] is True

    api.push_update(api.command("/away", user_id=OPERATOR_TG_ID))
    assert (await inbox.receive_type("away", timeout=10))["away"] is True
    told = (await colleague.receive_type("team", timeout=10))["operator"]
    assert (told["id"], told["status"]) == (user.pk, "away")
    # Mehmet is still there for visitors.
    assert await visitor.nothing_more()
    await colleague.close()
    assert (await visitor.receive_type("presence", timeout=10))[
        "operators_online"
    ] is False
