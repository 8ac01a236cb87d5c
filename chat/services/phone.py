"""The visitor's verified phone number (their own Telegram contact: the bridge
checks it is the sender's before calling this)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from chat.models import Visitor
from chat.services.context import send_visitor

MAX_PHONE = 32


@transaction.atomic
def verify_visitor_phone(*, visitor_id: int, phone: str) -> None:
    """Record the visitor's phone number as verified; operators are told (the
    visitor panel, /info). An unknown visitor changes nothing."""
    visitor = Visitor.objects.select_for_update().filter(pk=visitor_id).first()
    if visitor is None:
        return
    digits = "".join(ch for ch in phone if ch.isdigit())[: MAX_PHONE - 1]
    visitor.phone = f"+{digits}" if digits else ""
    visitor.phone_verified_at = timezone.now() if digits else None
    visitor.save(update_fields=["phone", "phone_verified_at"])
    send_visitor(visitor)
