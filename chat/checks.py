"""System checks: settings and fields the message path cannot carry are refused at
start-up (``manage.py check``, and the web process before it serves)."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

from realtime import framing, sql

# Telegram's own limit; the bridge keeps operators' texts to it.
TELEGRAM_MAX_TEXT = 4096
# The largest id a JSON number carries exactly (JavaScript's safe integers).
LARGEST_ID = 2**53 - 1


@register()
def check_frame_sizes(**kwargs: Any) -> list[Error]:
    """One message of the longest body, written with the characters that take the
    most bytes, must fit a frame each way: else it could be stored and never be
    sent to anyone, or not be sendable at all."""
    errors: list[Error] = []
    body = max(settings.SOHBET_MAX_BODY, TELEGRAM_MAX_TEXT)
    client_frame = framing.byte_size(
        framing.encode(
            {
                "type": "message.send",
                "client_id": str(uuid.UUID(int=0)),
                "body": "\U0001f600" * settings.SOHBET_MAX_BODY,  # 4 bytes each
                "attachment": LARGEST_ID,
                "thread": LARGEST_ID,
            }
        )
    )
    if client_frame > settings.SOHBET_MAX_FRAME_BYTES:
        errors.append(
            Error(
                f"SOHBET_MAX_FRAME_BYTES ({settings.SOHBET_MAX_FRAME_BYTES}) cannot "
                f"hold a message of SOHBET_MAX_BODY ({settings.SOHBET_MAX_BODY}) "
                f"characters: it takes up to {client_frame} bytes.",
                hint="Raise SOHBET_MAX_FRAME_BYTES or lower SOHBET_MAX_BODY.",
                id="chat.E001",
            )
        )
    server_frame = framing.byte_size(framing.encode(_largest_thread_frame(body)))
    if server_frame > settings.SOHBET_MAX_SERVER_FRAME_BYTES:
        errors.append(
            Error(
                f"SOHBET_MAX_SERVER_FRAME_BYTES "
                f"({settings.SOHBET_MAX_SERVER_FRAME_BYTES}) cannot hold a message "
                f"of {body} characters: its frame takes up to {server_frame} bytes.",
                hint="Raise SOHBET_MAX_SERVER_FRAME_BYTES (and the server's "
                "--websocket-max-message-size with it) or lower SOHBET_MAX_BODY.",
                id="chat.E002",
            )
        )
    return errors


@register()
def check_fast_storage(**kwargs: Any) -> list[Error]:
    """The message path's fast storage (chat.storage on PostgreSQL) writes rows as
    JSON of plain values: a field it cannot carry would make every post fail."""
    from chat.storage import FAST_FIELDS

    return [
        Error(
            f"{model.__name__}.{field.name} ({type(field).__name__}) cannot be "
            "stored by the message path's fast storage (realtime.sql).",
            hint="Keep the field off this model (a related model of its own), or "
            "teach realtime.sql its values and test them.",
            id="chat.E003",
        )
        for model, names in FAST_FIELDS.items()
        for field in sql.unsupported_fields(model, names)
    ]


def _largest_thread_frame(body: int) -> dict[str, Any]:
    """A ``thread`` frame at its largest (it carries a message at its largest):
    every text field full of characters that JSON escapes to six bytes."""
    worst = "\x01"
    message = {
        "id": LARGEST_ID,
        "thread": LARGEST_ID,
        "seq": LARGEST_ID,
        "client_id": str(uuid.UUID(int=0)),
        "author": "operator",
        "author_name": worst * 150,
        "body": worst * body,
        "created": "2000-01-01T00:00:00.000000Z",
        "source": "telegram",
        "edited": "2000-01-01T00:00:00.000000Z",
        "attachment": {
            "id": LARGEST_ID,
            "kind": "image",
            "url": f"/attachments/{LARGEST_ID}/" + "%01" * 160,
            "name": worst * 160,
            "size": LARGEST_ID,
            "content_type": "x" * 100,
            "width": LARGEST_ID,
            "height": LARGEST_ID,
        },
    }
    thread = {
        "id": LARGEST_ID,
        "status": "closed",
        "visitor_id": LARGEST_ID,
        "visitor_name": worst * 80,
        "assigned_to": {"id": LARGEST_ID, "name": worst * 150},
        "unread": LARGEST_ID,
        "last_message": message,
        "updated": message["created"],
        "created": message["created"],
        "visitor_online": False,
        "visitor_read_up_to": LARGEST_ID,
    }
    # Room to spare for fields added later.
    thread["spare"] = "x" * 1024
    return {"type": "thread", "thread": thread}


@register()
def check_widget_sites(**kwargs: Any) -> list[Error]:
    """Each of SOHBET_WIDGET_SITES must be an origin pattern (chat.widget.sites)."""
    from chat.widget.sites import normalize

    errors: list[Error] = []
    for entry in settings.SOHBET_WIDGET_SITES:
        try:
            normalize(entry)
        except ValueError as exc:
            errors.append(
                Error(
                    f"SOHBET_WIDGET_SITES: {entry!r} is not a site: {exc}",
                    id="chat.E004",
                )
            )
    return errors


@register(deploy=True)
def check_email_links(**kwargs: Any) -> list[Warning]:
    """Emails to visitors carry links to this site: on SOHBET_PUBLIC_URL."""
    sends = settings.SOHBET_EMAIL_ENABLED and settings.EMAIL_BACKEND.endswith(
        "smtp.EmailBackend"
    )  # without SOHBET_EMAIL_URL, Django's default backend is SMTP but unused
    if sends and not settings.SOHBET_PUBLIC_URL:
        return [
            Warning(
                "SOHBET_EMAIL_URL sends email, but SOHBET_PUBLIC_URL is not set: the "
                "links in emails to visitors would point at http://127.0.0.1:8000.",
                hint="Set SOHBET_PUBLIC_URL to https:// and your host name.",
                id="chat.W005",
            )
        ]
    return []


@register()
def check_pdf_font(**kwargs: Any) -> list[Warning]:
    from chat import transcript_pdf

    if transcript_pdf.is_available():
        return []
    return [
        Warning(
            f"SOHBET_PDF_FONT ({settings.SOHBET_PDF_FONT}) is not a file: "
            "transcripts are offered as HTML only.",
            hint="Install a Unicode TrueType font (Debian: fonts-dejavu-core) or "
            "point SOHBET_PDF_FONT at one.",
            id="chat.W006",
        )
    ]
