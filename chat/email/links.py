"""The signed links of an email: reopen the conversation (expiring) and unsubscribe
(valid until used; unsubscribing twice does nothing more)."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

RESUME_SALT = "chat.email.resume"
UNSUBSCRIBE_SALT = "chat.email.unsubscribe"


def resume_token(visitor_id: int) -> str:
    return signing.TimestampSigner(salt=RESUME_SALT).sign(str(visitor_id))


def unsubscribe_token(visitor_id: int) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(str(visitor_id))


def visitor_of_resume_token(token: str) -> int | None:
    """The visitor a reopen link names; None when forged or older than
    SOHBET_EMAIL_LINK_MAX_AGE."""
    try:
        value = signing.TimestampSigner(salt=RESUME_SALT).unsign(
            token, max_age=settings.SOHBET_EMAIL_LINK_MAX_AGE
        )
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None


def visitor_of_unsubscribe_token(token: str) -> int | None:
    try:
        value = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token)
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None


def absolute(path: str) -> str:
    """A link for an email: on SOHBET_PUBLIC_URL (no request to build it from)."""
    base = settings.SOHBET_PUBLIC_URL or "http://127.0.0.1:8000"
    return base + path


def resume_url(visitor_id: int) -> str:
    return absolute(reverse("email-resume", args=[resume_token(visitor_id)]))


def unsubscribe_url(visitor_id: int) -> str:
    return absolute(reverse("email-unsubscribe", args=[unsubscribe_token(visitor_id)]))
