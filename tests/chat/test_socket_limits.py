"""One client cannot hold an unbounded number of sockets open."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Socket, _visitor_cookie, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


async def visitor_from(
    sockets: list[Socket], cookie: str, address: str = "203.0.113.1"
) -> Socket:
    socket, connected = await open_socket(
        "/ws/chat/",
        cookie=cookie,
        extra_headers=[(b"x-forwarded-for", address.encode())],
    )
    assert connected
    sockets.append(socket)
    return socket


async def refused_as_crowded(socket: Socket) -> bool:
    error = await socket.receive_type("error")
    return error["code"] == "rate_limited" and await socket.receive_close() == 4429


@pytest.fixture(autouse=True)
def _addresses_from_the_proxy(settings: Any) -> None:
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"


async def test_one_session_holds_at_most_its_cap_of_sockets(
    sockets: list[Socket], settings: Any
) -> None:
    settings.SOHBET_WS_PER_SESSION = 3
    cookie = await _visitor_cookie()
    tabs = [await visitor_from(sockets, cookie) for _ in range(3)]
    for tab in tabs:
        assert (await tab.receive_type("hello"))["role"] == "visitor"
    assert await refused_as_crowded(await visitor_from(sockets, cookie))
    # Closing a tab frees its place.
    await tabs[0].close()
    again = await visitor_from(sockets, cookie)
    assert (await again.receive_type("hello"))["role"] == "visitor"


async def test_one_address_holds_at_most_its_cap_whatever_the_sessions(
    sockets: list[Socket], settings: Any
) -> None:
    settings.SOHBET_WS_PER_ADDRESS = 3
    for n in range(3):
        tab = await visitor_from(
            sockets, await _visitor_cookie(), f"2001:db8:9:9::{n + 1}"
        )
        await tab.receive_type("hello")
    # A new session from another address of the same /64 is the same client.
    crowded = await visitor_from(sockets, await _visitor_cookie(), "2001:db8:9:9::ff")
    assert await refused_as_crowded(crowded)
    elsewhere = await visitor_from(sockets, await _visitor_cookie(), "2001:db8:9:a::1")
    assert (await elsewhere.receive_type("hello"))["role"] == "visitor"
