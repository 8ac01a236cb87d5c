"""Writes on visitors: their sessions, names and visits."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from chat import events
from chat.models import Thread, Visitor
from chat.storage import current_thread_events
from realtime import send_on_commit


@transaction.atomic
def start_visitor(
    *,
    session_key: str,
    visitor_id: int | None = None,
    locale: str = "",
    user_agent: str = "",
    page: str = "",
) -> tuple[Visitor, Thread]:
    """The visitor of a browser session (``visitor_id`` when the session names one
    that exists) with their current thread, each created if missing.

    One session has one visitor whatever the race (two first sockets at once, on two
    processes): ``Visitor.session_key`` is unique, and the loser of a race to create
    it gets the winner's. Thread creation waits on the visitor's row, so the visitor
    gets one thread. Broadcasts nothing: operators see a thread once it has a message.
    """
    visitor = None
    if visitor_id is not None:
        visitor = Visitor.objects.select_for_update().filter(pk=visitor_id).first()
    if visitor is None:
        visitor, _created = Visitor.objects.get_or_create(
            session_key=session_key,
            defaults={
                "locale": locale[:16],
                "user_agent": user_agent[:300],
                "last_page": page[:500],
            },
        )
        Visitor.objects.select_for_update().filter(pk=visitor.pk).first()
    thread = Thread.objects.filter(visitor=visitor).order_by("-pk").first()
    if thread is None:
        thread = Thread.objects.create(visitor=visitor)
    return visitor, thread


@transaction.atomic
def rebind_visitor_session(
    *, visitor_id: int, old_session_key: str, session_key: str
) -> None:
    """Move a visitor to their browser session's new key (rotated), and close the
    sockets opened with the old key after commit (``session.rotated`` to their
    thread's group: they reconnect with the browser's new cookie)."""
    Visitor.objects.filter(pk=visitor_id).update(session_key=session_key)
    thread = Thread.objects.filter(visitor_id=visitor_id).order_by("-pk").first()
    if thread is not None:
        send_on_commit(
            events.session_event(
                events.thread_group(thread.pk),
                events.SESSION_ROTATED,
                session=events.session_group(old_session_key),
            )
        )


def touch_visitor(*, visitor_id: int, page: str | None = None) -> None:
    """Record that the visitor is here now (and on which page)."""
    fields: dict[str, object] = {"last_seen_at": timezone.now()}
    if page:
        fields["last_page"] = page[:500]
    Visitor.objects.filter(pk=visitor_id).update(**fields)


@transaction.atomic
def rename_visitor(*, visitor_id: int, name: str) -> Visitor:
    """Set the visitor's display name; operators get the updated threads."""
    visitor = Visitor.objects.select_for_update().get(pk=visitor_id)
    visitor.name = name[:80]
    visitor.save(update_fields=["name"])
    threads = Thread.objects.filter(visitor=visitor, last_message__isnull=False)
    send_on_commit(*current_thread_events(threads.values_list("pk", flat=True)))
    return visitor
