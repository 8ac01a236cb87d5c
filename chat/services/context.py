"""Writes on what a visitor's page tells of them (chat.context): their page,
attributes and visits, once their rows are written (before, it goes with the rows:
chat.rules.NewConversation). The socket coalesces the changes it writes."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.db.models import Case, F, PositiveIntegerField, When
from django.utils import timezone

from chat import events, selectors
from chat.context import (
    COLUMNS,
    VISIT_GAP,
    Value,
    dump_attributes,
    load_attributes,
    merge_attributes,
)
from chat.models import Visitor
from realtime import send_on_commit


@transaction.atomic
def update_visitor_context(
    *,
    visitor_id: int,
    fields: Mapping[str, str],
    attributes: Mapping[str, Value],
) -> None:
    """Store the context ``fields`` (by frame name) and merge ``attributes`` (new
    keys beyond chat.context.MAX_ATTRIBUTES, which another tab may have filled,
    are left out); the visitor is seen now. Operators get the visitor after
    commit. Nothing for a visitor that is gone."""
    visitor = Visitor.objects.select_for_update().filter(pk=visitor_id).first()
    if visitor is None:
        return
    changed = ["last_seen_at"]
    for name, value in fields.items():
        setattr(visitor, COLUMNS[name], value)
        changed.append(COLUMNS[name])
    if attributes:
        merged = merge_attributes(
            load_attributes(visitor.attributes), attributes, strict=False
        )
        visitor.attributes = dump_attributes(merged)
        changed.append("attributes")
    visitor.last_seen_at = timezone.now()
    visitor.save(update_fields=changed)
    send_visitor(visitor)


def send_visitor(visitor: Visitor) -> None:
    """Tell the operators who the visitor is now (after commit)."""
    threads = selectors.list_visitor_threads(visitor_id=visitor.pk)
    send_on_commit(events.visitor_event(events.visitor_payload(visitor, threads)))


def touch_visitor(*, visitor_id: int, country: str = "") -> None:
    """The visitor is here now: a new visit when they were away VISIT_GAP or more
    (``last_seen_at``); ``country`` as the proxy sends it, when it does. One query."""
    now = timezone.now()
    fields: dict[str, object] = {
        "last_seen_at": now,
        "visits": Case(
            When(last_seen_at__lt=now - VISIT_GAP, then=F("visits") + 1),
            default=F("visits"),
            output_field=PositiveIntegerField(),
        ),
    }
    if country:
        fields["country"] = country
    Visitor.objects.filter(pk=visitor_id).update(**fields)


def note_visitor_seen(*, visitor_id: int) -> None:
    """The visitor's page is still open (their visit goes on)."""
    Visitor.objects.filter(pk=visitor_id).update(last_seen_at=timezone.now())
