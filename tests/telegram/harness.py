"""Conversations written the way the site writes them, for tests of the bridge in
this process (the ``bridge`` fixture), and stepping its outbox while time passes."""

from __future__ import annotations

import io
import uuid
from typing import Any

from channels.db import database_sync_to_async
from django.utils import timezone
from PIL import Image

from chat import services
from chat.models import Message, OutboxEntry
from chat.uploads import clean_upload
from telegram_bridge.bot import Bridge
from tests.telegram.clock import VirtualClock


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (5, 4), (10, 200, 90)).save(out, "PNG")
    return out.getvalue()


FILES = {  # Bot API method -> a visitor's upload it carries
    "sendPhoto": ("screen.png", png_bytes()),
    "sendVoice": ("voice-note.ogg", b"OggS\x00\x02" + b"\x01" * 200),
    "sendAudio": ("song.mp3", b"ID3\x04" + b"\x00" * 200),
    "sendDocument": ("invoice.pdf", b"%PDF-1.7\n" + b"x" * 200),
}


# One of each class of error Telegram answers with (as the fake's fail_next takes it).
NEW_CHAT_ID = -1009876543210
FAULTS: dict[str, dict[str, Any]] = {
    "retry_after": {"status": 429, "retry_after": 30},
    "bad_request": {"status": 400, "description": "Bad Request: something new"},
    "forbidden": {
        "status": 403,
        "description": "Forbidden: bot is not a member of the supergroup chat",
    },
    "network": {"status": 502},
    "invalid_token": {"status": 401, "description": "Unauthorized"},
    "chat_migrated": {"status": 400, "migrate_to_chat_id": NEW_CHAT_ID},
}


def _post(thread_id: int, body: str, attachment_id: int | None = None) -> int:
    return services.post_message(
        thread_id=thread_id,
        client_id=uuid.uuid4(),
        body=body,
        author=Message.Author.VISITOR,
        author_name="",
        attachment_id=attachment_id,
    ).message.pk


@database_sync_to_async
def new_thread(name: str = "") -> int:
    """A visitor (named ``name``) and their thread, with no message yet."""
    visitor, thread = services.start_visitor(session_key=uuid.uuid4().hex)
    if name:
        services.rename_visitor(visitor_id=visitor.pk, name=name)
    return thread.pk


@database_sync_to_async
def visitor_writes(thread_id: int, *bodies: str) -> list[int]:
    return [_post(thread_id, body) for body in bodies]


@database_sync_to_async
def visitor_sends_file(thread_id: int, name: str, content: bytes) -> int:
    attachment = services.store_attachment(
        thread_id=thread_id,
        uploaded_by=Message.Author.VISITOR,
        operator_id=None,
        cleaned=clean_upload(content, name=name),
    )
    return _post(thread_id, "", attachment.pk)


@database_sync_to_async
def outbox() -> list[tuple[str, str, int]]:
    """(kind, status, attempts) of every outbox entry, oldest first."""
    return list(
        OutboxEntry.objects.order_by("pk").values_list("kind", "status", "attempts")
    )


@database_sync_to_async
def _pending() -> int:
    return OutboxEntry.objects.filter(status=OutboxEntry.Status.PENDING).count()


@database_sync_to_async
def _make_due() -> None:
    OutboxEntry.objects.filter(status=OutboxEntry.Status.PENDING).update(
        next_attempt_at=timezone.now()
    )


async def time_passes(clock: VirtualClock, seconds: float) -> None:
    """``seconds`` pass: on the bridge's clock, and for the outbox's retries."""
    clock.advance(seconds)
    await _make_due()


async def deliver_all(bridge: Bridge, clock: VirtualClock, steps: int = 60) -> int:
    """Step the outbox until nothing is pending, letting time pass whenever the
    bridge has to wait. Returns how many steps it took."""
    for step in range(steps):
        if not await bridge.delivery.deliver_next():
            if not await _pending():
                return step
            await time_passes(clock, 310)
    raise AssertionError(f"still pending after {steps} steps: {await outbox()}")


def texts(api: Any, thread_id: int | None = None) -> list[str]:
    return [
        m.get("text") or m.get("caption") or ""
        for m in api.sent_messages(thread_id=thread_id)
    ]
