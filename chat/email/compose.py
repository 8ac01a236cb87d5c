"""What an email to a visitor says: the operators' replies they have not read, or
the conversation's transcript; HTML and text parts from templates a site may
override (templates/chat/email/), in the visitor's language. Only what the visitor
saw in the chat goes in: the messages, the names operators answer with, links."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from chat.email import links
from chat.models import Message, Thread, Visitor


@dataclass(frozen=True, slots=True)
class Line:
    """A message as the email shows it."""

    author: str  # "visitor" | "operator" | "system"
    name: str
    body: str
    created_at: Any
    file_name: str
    file_url: str


def visitor_language(visitor: Visitor) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    for value in (visitor.locale, visitor.language):
        code = (value or "").split("-")[0].lower()
        if code in codes:
            return code
    return settings.LANGUAGE_CODE


def lines(messages: list[Message], visitor: Visitor) -> list[Line]:
    resume = reverse("email-resume", args=[links.resume_token(visitor.pk)])
    return [
        Line(
            author=message.author,
            name=message.author_name,
            body=message.body,
            created_at=message.created_at,
            file_name=message.attachment.name if message.attachment else "",
            file_url=(
                links.absolute(f"{resume}?file={message.attachment_id}")
                if message.attachment_id
                else ""
            ),
        )
        for message in messages
    ]


def build(
    template: str, *, visitor: Visitor, thread: Thread, messages: list[Message]
) -> EmailMultiAlternatives:
    """The email ``template`` (``replies`` or ``transcript``) for ``visitor``."""
    with translation.override(visitor_language(visitor)):
        unsubscribe = links.unsubscribe_url(visitor.pk)
        context = {
            "site_name": settings.SOHBET_SITE_NAME,
            "visitor": visitor,
            "thread": thread,
            "lines": lines(messages, visitor),
            "operators": sorted(
                {m.author_name for m in messages if m.author == "operator"} - {""}
            ),
            "resume_url": links.resume_url(visitor.pk),
            "unsubscribe_url": unsubscribe,
            "link_days": max(1, settings.SOHBET_EMAIL_LINK_MAX_AGE // 86400),
        }
        subject = render_to_string(f"chat/email/{template}_subject.txt", context)
        text = render_to_string(f"chat/email/{template}.txt", context)
        html = render_to_string(f"chat/email/{template}.html", context)
    email = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[visitor.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    email.attach_alternative(html, "text/html")
    return email
