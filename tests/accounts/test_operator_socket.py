"""The operator socket needs the completed second factor, like the admin."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from accounts.selectors import SECOND_FACTOR_SESSION_KEY
from tests.accounts.conftest import link
from tests.conftest import open_socket

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def session_cookie(user: Any, *, verified: bool) -> str:
    client = Client()
    client.force_login(user)
    if verified:
        session = client.session
        session[SECOND_FACTOR_SESSION_KEY] = user.pk
        session.save()
    return client.cookies["sessionid"].value


async def test_password_alone_does_not_open_the_operator_socket(
    telegram: Any, make_user: Any
) -> None:
    user = await sync_to_async(make_user)("ayse")
    await sync_to_async(link)(user)
    socket, _ = await open_socket(
        "/ws/operator/", cookie=await session_cookie(user, verified=False)
    )
    assert await socket.receive_close() == 4401

    socket, _ = await open_socket(
        "/ws/operator/", cookie=await session_cookie(user, verified=True)
    )
    assert (await socket.receive_type("hello"))["role"] == "operator"
    await socket.close()
