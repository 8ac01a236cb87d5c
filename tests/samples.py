"""Small real files of every kind a conversation can carry, and a conversation with
one of each, stored through the services as the upload view and the socket do."""

from __future__ import annotations

import io
import struct
import uuid
import wave

from PIL import Image

from chat import services
from chat.models import Message
from chat.uploads import clean_upload


def png(
    size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (0, 120, 200)
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def wav(seconds: float = 0.5, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(rate)
        sound.writeframes(struct.pack("<h", 0) * int(seconds * rate))
    return out.getvalue()


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def post_every_kind(
    thread_id: int, *, author: str = Message.Author.VISITOR
) -> list[Message]:
    """An image with a caption, a voice note and a PDF, then a text, in the thread."""
    posted = []
    for name, data, caption in (
        ("screenshot.png", png(), "Here is the screen"),
        ("voice-note.wav", wav(), ""),
        ("invoice.pdf", pdf(), ""),
        (None, b"", "Thanks!"),
    ):
        attachment_id = None
        if name is not None:
            attachment_id = services.store_attachment(
                thread_id=thread_id,
                uploaded_by=author,
                operator_id=None,
                cleaned=clean_upload(data, name=name),
            ).pk
        posted.append(
            services.post_message(
                thread_id=thread_id,
                client_id=uuid.uuid4(),
                body=caption,
                author=author,
                author_name="Elif" if author == Message.Author.VISITOR else "Ayşe",
                attachment_id=attachment_id,
            ).message
        )
    return posted
