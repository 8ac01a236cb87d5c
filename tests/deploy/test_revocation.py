"""Deactivating an operator closes their inbox sockets in every web process."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model

from tests.deploy.client import Peer, open_operator
from tests.deploy.conftest import Processes

pytestmark = [pytest.mark.postgres_redis, pytest.mark.django_db(transaction=True)]


async def test_deactivation_closes_the_operators_sockets_on_every_process(
    processes: Processes, peers: list[Peer], operator_cookie: str
) -> None:
    a, b = await asyncio.to_thread(processes.two_daphnes)
    on_a = await open_operator(a, operator_cookie, peers)
    on_b = await open_operator(b, operator_cookie, peers)

    @sync_to_async
    def deactivate() -> None:
        user = get_user_model().objects.get(username="ayse")
        user.is_active = False
        user.save()  # in this (third) process: the event travels through Redis

    await deactivate()
    assert await on_a.wait_closed(timeout=5) == 4001
    assert await on_b.wait_closed(timeout=5) == 4001
    again = await Peer.open_raw(
        b.ws + "/ws/operator/", cookie=operator_cookie, origin=b.http
    )
    peers.append(again)
    assert await again.wait_closed(timeout=5) == 4401
