"""Reads of the chat's appearance (chat.models.Appearance) and of how fast the team
typically replies, both cheap enough for every page and every ``/widget.js``: the
settings are a copy in each process (``realtime.localcopy``: chat.services.appearance
tells a change), the reply time is one aggregate query at most every
SOHBET_REPLY_TIME_SECONDS per process.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from chat import colors
from chat.models import APPEARANCE_ID, Appearance, Message, TeamAvatar, Thread
from realtime.localcopy import LocalCopy

CACHE_KEY = "chat.appearance"
LANGUAGES = ("en", "tr")  # the languages of Appearance's text fields

REPLY_WINDOW = dt.timedelta(days=14)
REPLY_MIN_THREADS = 5  # fewer answered (or long unanswered) threads: nothing is shown
# The median's bucket: the first whose bound at least half the threads were
# answered within. Past a day nothing is shown.
REPLY_BUCKETS = (
    ("minutes", dt.timedelta(minutes=10)),
    ("hour", dt.timedelta(hours=1)),
    ("hours", dt.timedelta(hours=6)),
    ("day", dt.timedelta(days=1)),
)


def _load_appearance() -> dict[str, Any]:
    row = Appearance.objects.filter(pk=APPEARANCE_ID).first() or Appearance()
    values = {
        field.attname: getattr(row, field.attname)
        for field in Appearance._meta.concrete_fields
        if field.attname not in ("id", "updated_at")
    }
    values["avatars"] = [
        reverse("team-avatar", args=[pk])
        for pk in TeamAvatar.objects.order_by("pk").values_list("pk", flat=True)
    ]
    return values


# Loaded again at least every SOHBET_APPEARANCE_CACHE_SECONDS.
APPEARANCE = LocalCopy(
    CACHE_KEY,
    _load_appearance,
    max_age=lambda: settings.SOHBET_APPEARANCE_CACHE_SECONDS,
)


def get_appearance_values() -> dict[str, Any]:
    """The appearance's fields (defaults while the row does not exist) and its
    avatars' URLs (``APPEARANCE``: this process's copy)."""
    return dict(APPEARANCE.get())


def get_team_avatar(*, avatar_id: int) -> TeamAvatar | None:
    return TeamAvatar.objects.filter(pk=avatar_id).first()


def widget_appearance(language: str | None) -> dict[str, Any]:
    """The appearance as the loader and the page use it, in ``language`` (English
    when it is not one of LANGUAGES): JSON-safe. An empty text is the default one
    (the launcher's: none, a button with an icon only)."""
    values = get_appearance_values()
    lang = (language or "").split("-")[0].lower()
    lang = lang if lang in LANGUAGES else LANGUAGES[0]
    team = values[f"team_name_{lang}"] or settings.SOHBET_SITE_NAME
    with translation.override(lang):
        greeting = values[f"greeting_{lang}"] or _(
            "Ask us anything. The %(site)s team will answer right here."
        ) % {"site": team}
        reply_time = reply_time_text(get_reply_time_bucket())
    return {
        "color": values["color"],
        "textColor": colors.text_color(values["color"]),
        "position": values["position"],
        "launcherLabel": values[f"launcher_label_{lang}"],
        "greeting": greeting,
        "teamName": team,
        "avatars": values["avatars"],
        "replyTime": reply_time,
    }


def reply_time_text(bucket: str | None) -> str | None:
    """The sentence for a bucket of REPLY_BUCKETS, in the active language."""
    texts = {
        "minutes": _("Typically replies in a few minutes"),
        "hour": _("Typically replies in under an hour"),
        "hours": _("Typically replies in a few hours"),
        "day": _("Typically replies within a day"),
    }
    return texts.get(bucket or "")


def compute_reply_time_bucket(*, now: dt.datetime | None = None) -> str | None:
    """The bucket of REPLY_BUCKETS of the median first-response time, or None.

    Over the threads whose visitor wrote in the last REPLY_WINDOW: the time from the
    first visitor message in the window to the operators' first reply after it. A
    thread unanswered for more than a day counts as answered after a day; one
    unanswered for less is left out. One aggregate query.
    """
    now = now or timezone.now()
    since = now - REPLY_WINDOW
    day_ago = now - dt.timedelta(days=1)
    asked = Message.objects.filter(
        thread=OuterRef("pk"), author=Message.Author.VISITOR, created_at__gte=since
    ).order_by("seq")
    replied = Message.objects.filter(
        thread=OuterRef("pk"),
        author=Message.Author.OPERATOR,
        created_at__gte=OuterRef("asked_at"),
    ).order_by("seq")
    threads = (
        Thread.objects.filter(updated_at__gte=since)
        .values("pk")
        .annotate(asked_at=Subquery(asked.values("created_at")[:1]))
        .annotate(replied_at=Subquery(replied.values("created_at")[:1]))
        # Rows are distinct anyway: this keeps PostgreSQL and SQLite from copying
        # each thread's subqueries into every count below (run once per thread).
        .distinct()
    )
    within = {
        name: Count("pk", filter=Q(replied_at__lte=F("asked_at") + bound))
        for name, bound in REPLY_BUCKETS
    }
    counts = threads.aggregate(
        total=Count(
            "pk",
            filter=Q(replied_at__isnull=False) | Q(asked_at__lt=day_ago),
        ),
        **within,
    )
    total = counts["total"]
    if total < REPLY_MIN_THREADS:
        return None
    for name, _bound in REPLY_BUCKETS:
        if counts[name] * 2 >= total:
            return name
    return None


_reply_time: tuple[float, str | None] | None = None  # (computed at, bucket)
_reply_time_lock = threading.Lock()


def get_reply_time_bucket() -> str | None:
    """compute_reply_time_bucket, computed again at most every
    SOHBET_REPLY_TIME_SECONDS in this process (a figure over two weeks needs no
    fresher one)."""
    global _reply_time
    with _reply_time_lock:
        memo = _reply_time
        fresh_for = settings.SOHBET_REPLY_TIME_SECONDS
        if memo is not None and time.monotonic() - memo[0] < fresh_for:
            return memo[1]
        bucket = compute_reply_time_bucket()
        _reply_time = (time.monotonic(), bucket)
        return bucket


def forget_reply_time() -> None:
    """The next get_reply_time_bucket computes afresh (tests)."""
    global _reply_time
    with _reply_time_lock:
        _reply_time = None
