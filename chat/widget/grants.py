"""Media grants: a frame without cookies shows its visitor's attachments with a
signed grant in their URLs (``?g=``), which opens that visitor's files and nothing
else, for a week; the frame gets a fresh one each time it loads."""

from __future__ import annotations

from django.core import signing

SALT = "sohbet.media-grant"
MAX_AGE = 7 * 24 * 3600
PARAMETER = "g"


def grant(visitor_id: int) -> str:
    return signing.TimestampSigner(salt=SALT, sep=".").sign(str(visitor_id))


def granted_visitor(value: str | None) -> int | None:
    if not value or len(value) > 100:
        return None
    try:
        return int(
            signing.TimestampSigner(salt=SALT, sep=".").unsign(value, max_age=MAX_AGE)
        )
    except (signing.BadSignature, ValueError):
        return None
