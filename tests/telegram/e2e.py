"""Helpers for the bridge end to end: web sockets <-> ``manage.py runtelegram`` <->
the fake Bot API (``start_bridge``, ``operator_bridge``)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from channels.db import database_sync_to_async

from accounts import services as account_services
from tests.telegram.conftest import CHAT_ID

OPERATOR_TG_ID = 5550001
# How long a test waits for what a bridge process does: its start alone can take 8 s
# on a loaded machine. A bound, not a pause: the waits end when the thing happens.
BRIDGE_WAIT = 30.0


def new_id() -> str:
    return str(uuid.uuid4())


async def eventually(check: Any, timeout: float = BRIDGE_WAIT) -> None:
    """Poll a database condition the bridge process makes true, with a deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await database_sync_to_async(check)():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)  # polling another process's writes, bounded


async def link_operator(api: Any, make_operator: Any, username: str = "ayse") -> Any:
    """Link a staff user's Telegram account the real way: deep link + /start."""
    user = await make_operator(username)
    token = await database_sync_to_async(account_services.issue_link_token)(user=user)
    api.push_update(api.private_start(OPERATOR_TG_ID, token, username="ayse_tg"))
    await api.wait_for_async(
        lambda f: [
            m
            for m in f.sent_messages(chat_id=OPERATOR_TG_ID)
            if "Linked" in m.get("text", "")
        ],
        timeout=BRIDGE_WAIT,  # the bridge process may still be starting
    )
    return user


async def operator_message(visitor: Any) -> dict[str, Any]:
    """The next message frame written by an operator (the visitor's own are echoed)."""
    while True:
        frame = await visitor.receive_type("message", timeout=BRIDGE_WAIT)
        if frame["message"]["author"] == "operator":
            return frame["message"]


async def visitor_says(visitor: Any, *bodies: str) -> list[int]:
    ids = []
    for body in bodies:
        await visitor.send(type="message.send", client_id=new_id(), body=body)
        ids.append((await visitor.receive_type("ack"))["id"])
    return ids


async def open_topic(api: Any, visitor: Any, text: str) -> int:
    """The visitor writes; returns the topic their message was bridged to."""
    await visitor_says(visitor, text)
    sent = await texts_in_chat(api, text)
    return next(m for m in sent if m["text"] == text)["message_thread_id"]


async def texts_in_chat(
    api: Any, *wanted: str, timeout: float = BRIDGE_WAIT
) -> list[dict[str, Any]]:
    def found(f: Any) -> list[dict[str, Any]] | None:
        sent = [m for m in f.sent_messages(chat_id=CHAT_ID) if "text" in m]
        texts = [m["text"] for m in sent]
        return sent if all(any(w in t for t in texts) for w in wanted) else None

    return await api.wait_for_async(found, timeout=timeout)
