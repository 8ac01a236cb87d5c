"""Any change of an operator's rights closes their open sockets at once; the socket
reconnects and is refused when the rights are gone."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client

from accounts import services
from tests.accounts.conftest import link
from tests.conftest import Socket, open_socket

pytestmark = pytest.mark.django_db(transaction=True)

CLOSE_RECHECK = 4001


def deactivate(user: Any, cookie: str) -> None:
    user.is_active = False
    user.save()


def change_password(user: Any, cookie: str) -> None:
    user.set_password("an entirely different passphrase")
    user.save()


def remove_staff_flag(user: Any, cookie: str) -> None:
    user.is_staff = False
    user.save()


def reset_second_factor(user: Any, cookie: str) -> None:
    link(user)
    services.unlink_telegram(user=user)


def sign_out_everywhere(user: Any, cookie: str) -> None:
    services.end_sessions(user=user)


def delete_the_session(user: Any, cookie: str) -> None:
    import_module(settings.SESSION_ENGINE).SessionStore(cookie).delete()


def delete_the_user(user: Any, cookie: str) -> None:
    user.delete()


@sync_to_async
def signed_in_cookie(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def open_operator(cookie: str, sockets: list[Socket]) -> Socket:
    socket, connected = await open_socket("/ws/operator/", cookie=cookie)
    assert connected
    sockets.append(socket)
    assert (await socket.receive_type("hello"))["role"] == "operator"
    return socket


@pytest.mark.parametrize(
    "revoke",
    [
        deactivate,
        change_password,
        remove_staff_flag,
        reset_second_factor,
        sign_out_everywhere,
        delete_the_session,
        delete_the_user,
    ],
)
async def test_a_change_of_rights_closes_the_operators_sockets(
    revoke: Callable[[Any, str], None], make_operator: Any, sockets: list[Socket]
) -> None:
    ayse = await make_operator("ayse")
    cookie = await signed_in_cookie(ayse)
    first = await open_operator(cookie, sockets)
    second = await open_operator(cookie, sockets)
    colleague = await open_operator(
        await signed_in_cookie(await make_operator("mehmet")), sockets
    )
    await sync_to_async(revoke)(ayse, cookie)
    assert await first.receive_close() == CLOSE_RECHECK
    assert await second.receive_close() == CLOSE_RECHECK
    # The reconnecting inbox is checked again, and refused.
    again, _ = await open_socket("/ws/operator/", cookie=cookie)
    sockets.append(again)
    assert await again.receive_close() == 4401
    # Other operators are not touched.
    await colleague.send(type="ping")
    assert (await colleague.receive_type("pong"))["type"] == "pong"


async def test_signing_in_elsewhere_leaves_open_sockets_alone(
    make_operator: Any, sockets: list[Socket]
) -> None:
    ayse = await make_operator("ayse")
    socket = await open_operator(await signed_in_cookie(ayse), sockets)
    await signed_in_cookie(ayse)  # another browser: last_login changes, rights not
    assert await socket.nothing_more()


def bulk_deactivate(user: Any, cookie: str) -> None:
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)


def bulk_delete_the_session(user: Any, cookie: str) -> None:
    Session.objects.filter(session_key=cookie).delete()


@pytest.mark.parametrize("revoke", [bulk_deactivate, bulk_delete_the_session])
async def test_a_change_that_bypassed_the_events_is_found_on_the_next_ping(
    revoke: Callable[[Any, str], None], make_operator: Any, sockets: list[Socket]
) -> None:
    ayse = await make_operator("ayse")
    cookie = await signed_in_cookie(ayse)
    socket = await open_operator(cookie, sockets)
    await sync_to_async(revoke)(ayse, cookie)  # no model signal, no engine call
    assert await socket.nothing_more()
    await socket.send(type="ping")
    await socket.receive_type("pong")
    assert await socket.receive_close() == CLOSE_RECHECK
