"""Reads of the operators' desk: the labels, the inbox's views (which conversations
each shows, and how many), who may be given a new conversation, and whether
automatic assignment is on (a copy in each process; chat.services.assignment
tells the others it changed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from chat import presence
from chat.availability import list_away_operator_ids
from chat.desk_frames import VIEWS
from chat.desk_models import MAX_LABELS
from chat.models import (
    AUTO_ASSIGNMENT_ID,
    AutoAssignment,
    Label,
    Message,
    Thread,
    ThreadLabel,
)
from chat.selectors import THREAD_RELATED
from realtime.localcopy import LocalCopy

AUTO_ASSIGNMENT_CACHE_KEY = "chat.auto_assignment"


def view_filter(view: str, *, user_id: int) -> Q:
    """The conversations of one of VIEWS, for the operator ``user_id``."""
    is_open = Q(status=Thread.Status.OPEN)
    return {
        "mine": is_open & Q(assigned_to_id=user_id),
        "unassigned": is_open & Q(assigned_to__isnull=True),
        "open": is_open,
        "waiting": is_open & Q(waiting_since__isnull=False),
        "closed": Q(status=Thread.Status.CLOSED),
        "all": Q(),
    }[view]


def get_view_counts(*, user_id: int) -> dict[str, int]:
    """How many conversations (with at least one message) each view holds. One
    query."""
    counts = Thread.objects.filter(last_message__isnull=False).aggregate(
        **{
            view: Count("pk", filter=view_filter(view, user_id=user_id))
            for view in VIEWS
        }
    )
    return {view: int(counts[view] or 0) for view in VIEWS}


def list_threads_in_view(
    *,
    view: str,
    user_id: int,
    label_id: int | None,
    q: str,
    before: dt.datetime | None,
    limit: int,
) -> tuple[list[Thread], bool]:
    """A page of a view's threads (with at least one message), filtered by a label
    and a search in the visitor's name and the messages' text. Newest activity
    first; "waiting" oldest wait first, ``before`` then being the last page's
    ``waiting_since`` (the next page waits since later)."""
    qs: QuerySet[Thread] = Thread.objects.select_related(*THREAD_RELATED).filter(
        view_filter(view, user_id=user_id), last_message__isnull=False
    )
    if label_id is not None:
        qs = qs.filter(thread_labels__label_id=label_id)
    if q:
        matching = Message.objects.filter(body__icontains=q).values("thread_id")
        qs = qs.filter(Q(visitor__name__icontains=q) | Q(pk__in=matching))
    if view == "waiting":
        if before is not None:
            qs = qs.filter(waiting_since__gt=before)
        qs = qs.order_by("waiting_since", "pk")
    else:
        if before is not None:
            qs = qs.filter(updated_at__lt=before)
        qs = qs.order_by("-updated_at", "-pk")
    rows = list(qs[: limit + 1])
    return rows[:limit], len(rows) > limit


def list_labels() -> list[Label]:
    return list(Label.objects.order_by("name", "pk")[:MAX_LABELS])


def get_label_by_name(name: str) -> Label | None:
    """The label of that name, whatever its case."""
    return Label.objects.filter(name__iexact=name).first()


def label_payload(label: Label) -> dict[str, Any]:
    return {"id": label.pk, "name": label.name, "colour": label.colour}


def list_label_payloads() -> list[dict[str, Any]]:
    """The labels as the inbox gets them (docs/protocol.md, ``labels``)."""
    return [label_payload(label) for label in list_labels()]


def get_thread_label_ids(thread_ids: Iterable[int]) -> dict[int, list[int]]:
    """Each thread's label ids (those without a label are absent). One query."""
    found: dict[int, list[int]] = {}
    rows = ThreadLabel.objects.filter(thread_id__in=list(thread_ids)).order_by("pk")
    for thread_id, label_id in rows.values_list("thread_id", "label_id"):
        found.setdefault(thread_id, []).append(label_id)
    return found


def _load_auto_assignment() -> bool:
    return AutoAssignment.objects.filter(pk=AUTO_ASSIGNMENT_ID, enabled=True).exists()


# Read after every new conversation: a copy in each process, like the business hours.
AUTO_ASSIGNMENT = LocalCopy(
    AUTO_ASSIGNMENT_CACHE_KEY,
    _load_auto_assignment,
    max_age=lambda: settings.SOHBET_APPEARANCE_CACHE_SECONDS,
)


def is_auto_assignment_enabled() -> bool:
    """Whether new conversations are assigned by turns."""
    return AUTO_ASSIGNMENT.get()


def auto_assignment_off() -> bool:
    """Whether this process's fresh copy says automatic assignment is off; False
    when it cannot tell without the cache (no I/O: for the event loop)."""
    return AUTO_ASSIGNMENT.peek() is False


def list_available_operator_ids() -> list[int]:
    """Active staff users who are online (a socket, or Telegram's /online) and not
    away, by id: those automatic assignment gives conversations to."""
    from accounts.models import User

    ids = list(
        User.objects.filter(is_staff=True, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    online = presence.online_operators(ids)
    away = list_away_operator_ids()
    return [pk for pk in ids if pk in online and pk not in away]


def next_in_turn(available: list[int], last: int | None) -> int:
    """Round robin: the first of ``available`` (sorted ids) after ``last``, else the
    first again."""
    for user_id in available:
        if last is None or user_id > last:
            return user_id
    return available[0]


def get_inbox_page(
    *,
    view: str,
    user_id: int,
    label_id: int | None,
    q: str,
    before: dt.datetime | None,
    limit: int,
) -> tuple[list[Thread], bool, dict[int, list[int]], dict[str, int] | None]:
    """A ``threads`` answer's reads: the page (``list_threads_in_view``), its
    threads' labels, and on a first page the views' counts. Three queries."""
    threads, has_more = list_threads_in_view(
        view=view, user_id=user_id, label_id=label_id, q=q, before=before, limit=limit
    )
    labels = get_thread_label_ids(thread.pk for thread in threads)
    counts = get_view_counts(user_id=user_id) if before is None else None
    return threads, has_more, labels, counts


def get_views_state(*, user_id: int) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """The views' counts and the labels (the ``views`` frame). Two queries."""
    return get_view_counts(user_id=user_id), list_label_payloads()
