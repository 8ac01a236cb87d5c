"""The wire payloads of messages, attachments, threads and visitors: what the frames
and events carry (docs/protocol.md). ``chat.events`` re-exports them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.urls import reverse

from chat.context import load_attributes
from chat.useragent import describe

if TYPE_CHECKING:
    from chat.models import Attachment, Message, Thread, Visitor


def iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def message_payload(message: Message) -> dict[str, Any]:
    """The wire form of a message (docs/protocol.md)."""
    return {
        "id": message.pk,
        "thread": message.thread_id,
        "seq": message.seq,
        "client_id": str(message.client_id),
        "author": message.author,
        "author_name": message.author_name,
        "body": message.body,
        "created": iso(message.created_at),
        "source": message.source,
        "edited": iso(message.edited_at),
        "attachment": (
            attachment_payload(message.attachment) if message.attachment else None
        ),
    }


def attachment_payload(attachment: Attachment) -> dict[str, Any]:
    """The wire form of an attachment; its URL is permission-checked by the server."""
    payload: dict[str, Any] = {
        "id": attachment.pk,
        "kind": attachment.kind,
        "url": reverse("attachment", args=[attachment.pk, attachment.name]),
        "name": attachment.name,
        "size": attachment.size,
        "content_type": attachment.content_type,
    }
    if attachment.width and attachment.height:
        payload["width"], payload["height"] = attachment.width, attachment.height
    return payload


def thread_payload(thread: Thread, *, visitor_online: bool = False) -> dict[str, Any]:
    """The wire form of a thread for operators. Expects visitor, assigned_to and
    last_message loaded (see selectors.THREAD_RELATED)."""
    assigned = thread.assigned_to
    return {
        "id": thread.pk,
        "status": thread.status,
        "visitor_id": thread.visitor_id,
        "visitor_name": thread.visitor.name,
        "assigned_to": (
            {"id": assigned.pk, "name": assigned.display_name} if assigned else None
        ),
        "unread": thread.operator_unread_count,
        "last_message": (
            message_payload(thread.last_message) if thread.last_message else None
        ),
        "updated": iso(thread.updated_at),
        "created": iso(thread.created_at),
        "visitor_online": visitor_online,
        "visitor_read_up_to": thread.visitor_read_up_to,
        "waiting_since": iso(thread.waiting_since),
    }


def visitor_thread_payload(thread: Thread) -> dict[str, Any]:
    """What a visitor may know of their thread (the ``thread`` frame to visitors)."""
    return {"id": thread.pk, "status": thread.status}


def visitor_payload(visitor: Visitor, threads: list[Thread]) -> dict[str, Any]:
    """The wire form of who a visitor is, for operators (docs/protocol.md,
    ``visitor``); ``threads``: their conversations, newest first."""
    browser, system = describe(visitor.user_agent)
    return {
        "id": visitor.pk,
        "name": visitor.name,
        "email": visitor.email,
        "email_source": visitor.email_source,
        "email_unsubscribed": visitor.email_unsubscribed_at is not None,
        "user_id": visitor.external_id or "",
        "identity_verified": visitor.identity_verified,
        "phone": visitor.phone if visitor.phone_verified_at else "",
        "url": visitor.last_page,
        "title": visitor.page_title,
        "referrer": visitor.referrer,
        "browser": browser,
        "os": system,
        "user_agent": visitor.user_agent,
        "language": visitor.language or visitor.locale,
        "timezone": visitor.time_zone,
        "country": visitor.country,
        "attributes": load_attributes(visitor.attributes),
        "visits": visitor.visits,
        "first_seen": iso(visitor.first_seen_at),
        "last_seen": iso(visitor.last_seen_at),
        "threads": [
            {
                "id": thread.pk,
                "status": thread.status,
                "created": iso(thread.created_at),
                "updated": iso(thread.updated_at),
                "admin_url": reverse("admin:chat_thread_change", args=[thread.pk]),
            }
            for thread in threads
        ],
    }
