"""Who a thread's due push rows reach, read at send time: operators who asked for
it (not in their quiet hours, not once the message was read in an inbox), and a
visitor whose page is closed. Each gets one notification per thread, tagged with
the thread (a newer one replaces it: collapsed per conversation)."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from chat import presence
from chat.models import Message, OutboxEntry, PushPreferences, PushSubscription, Thread
from chat.push.subscriptions import SubscriptionInfo

PREVIEW_CHARS = 140


@dataclass(frozen=True, slots=True)
class Delivery:
    subscription_id: int
    info: SubscriptionInfo
    payload: str  # JSON, read by the service worker
    topic: str  # the push service keeps only the newest per topic


def deliveries(*, thread_id: int, entry_ids: tuple[int, ...]) -> list[Delivery]:
    """The notifications of a thread's due rows (none: nothing to send)."""
    thread = Thread.objects.select_related("visitor").get(pk=thread_id)
    message_ids = OutboxEntry.objects.filter(pk__in=entry_ids).values_list(
        "message_id", flat=True
    )
    messages = list(
        Message.objects.select_related("attachment")
        .filter(pk__in=list(message_ids))
        .order_by("pk")
    )
    from_visitor = [
        m
        for m in messages
        if m.author == Message.Author.VISITOR and m.pk > thread.operator_read_up_to
    ]
    replies = [
        m
        for m in messages
        if m.author == Message.Author.OPERATOR and m.pk > thread.visitor_read_up_to
    ]
    found = []
    if from_visitor:
        found.extend(_to_operators(thread, from_visitor))
    if replies and not presence.is_online(presence.visitor_key(thread.pk)):
        found.extend(_to_visitor(thread, replies))
    return found


def _to_operators(thread: Thread, messages: list[Message]) -> list[Delivery]:
    new = any(m.seq == 1 for m in messages)
    users = get_user_model().objects.filter(
        is_active=True, is_staff=True, push_subscriptions__isnull=False
    )
    preferences = {
        p.operator_id: p
        for p in PushPreferences.objects.filter(operator_id__in=users.values("pk"))
    }
    wanted = {
        user_id
        for user_id in set(users.values_list("pk", flat=True))
        if _wants(preferences.get(user_id), thread, user_id, new=new)
    }
    if not wanted:
        return []
    with translation.override(settings.LANGUAGE_CODE):
        name = thread.visitor.display_name
        title = _("New conversation: %(name)s") % {"name": name} if new else name
        body = _preview(messages)
    payload = _payload(
        title=title,
        body=body,
        url=f"/admin/inbox/#thread-{thread.pk}",
        thread_id=thread.pk,
    )
    return _for(
        PushSubscription.objects.filter(operator_id__in=wanted), payload, thread.pk
    )


def _wants(
    preferences: PushPreferences | None, thread: Thread, user_id: int, *, new: bool
) -> bool:
    if preferences is None:
        return new or thread.assigned_to_id in (None, user_id)
    if new:
        wanted = preferences.new_conversations
    else:
        wanted = preferences.messages and thread.assigned_to_id in (None, user_id)
    return wanted and not is_quiet(preferences, timezone.now())


def is_quiet(preferences: PushPreferences, now: dt.datetime) -> bool:
    """Whether ``now`` falls in the operator's quiet hours (their time zone)."""
    start, end = preferences.quiet_from, preferences.quiet_until
    if start is None or end is None or start == end:
        return False
    try:
        zone = zoneinfo.ZoneInfo(preferences.time_zone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    local = now.astimezone(zone).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end  # across midnight


def _to_visitor(thread: Thread, messages: list[Message]) -> list[Delivery]:
    subscriptions = PushSubscription.objects.filter(visitor_id=thread.visitor_id)
    language = thread.visitor.locale or settings.LANGUAGE_CODE
    with translation.override(language):
        last = messages[-1]
        payload = _payload(
            title=_("New reply from %(name)s") % {"name": last.author_name}
            if last.author_name
            else _("New reply"),
            body=_preview(messages),
            url="/",
            thread_id=thread.pk,
        )
    return _for(subscriptions, payload, thread.pk)


def _preview(messages: list[Message]) -> str:
    last = messages[-1]
    text = last.body.strip()
    if not text and last.attachment_id is not None:
        text = _("Sent a file")
    if len(text) > PREVIEW_CHARS:
        text = text[: PREVIEW_CHARS - 1] + "…"
    if len(messages) > 1:
        more = ngettext(
            "(%(count)s new message)", "(%(count)s new messages)", len(messages)
        ) % {"count": len(messages)}
        text = f"{text} {more}"
    return text


def _payload(*, title: str, body: str, url: str, thread_id: int) -> str:
    return json.dumps(
        {
            "title": title,
            "body": body,
            "url": url,
            "tag": f"thread-{thread_id}",
            "thread": thread_id,
        },
        ensure_ascii=False,
    )


def _for(
    subscriptions: QuerySet[PushSubscription], payload: str, thread_id: int
) -> list[Delivery]:
    return [
        Delivery(
            subscription_id=s.pk,
            info=SubscriptionInfo(endpoint=s.endpoint, p256dh=s.p256dh, auth=s.auth),
            payload=payload,
            topic=f"thread-{thread_id}",
        )
        for s in subscriptions
    ]
