"""Who a thread's due push rows reach, read at send time: operators who asked for
it (not in their quiet hours, not once the message was read in an inbox), the
operators a note mentions (who want mentions), and a visitor whose page is closed.
Each gets one notification per thread, tagged with the thread (a newer one
replaces it: collapsed per conversation), in the language its device subscribed
in."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from chat import presence
from chat.models import (
    Message,
    Note,
    OutboxEntry,
    PushPreferences,
    PushSubscription,
    Thread,
)
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
    entries = list(
        OutboxEntry.objects.filter(pk__in=entry_ids).values_list(
            "kind", "message_id", "note_id"
        )
    )
    message_ids = [m for _kind, m, _note in entries if m is not None]
    note_ids = [
        n
        for kind, _message, n in entries
        if kind == OutboxEntry.Kind.MENTION and n is not None
    ]
    messages = list(
        Message.objects.select_related("attachment")
        .filter(pk__in=message_ids)
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
    if note_ids:  # last: the mention is what a device keeps of the thread's tag
        found.extend(_to_mentioned(thread, note_ids))
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

    def payload(_subscription: PushSubscription) -> str:
        name = thread.visitor.display_name
        return _payload(
            title=_("New conversation: %(name)s") % {"name": name} if new else name,
            body=_preview(messages),
            url=_inbox_url(thread.pk),
            thread_id=thread.pk,
        )

    return _in_languages(
        PushSubscription.objects.filter(operator_id__in=wanted),
        thread.pk,
        payload,
        key=lambda s: None,
    )


def _to_mentioned(thread: Thread, note_ids: list[int]) -> list[Delivery]:
    """Each operator the notes mention (not their author; active staff) who wants
    mentions, outside their quiet hours: who wrote which of their notes."""
    notes = Note.objects.filter(pk__in=note_ids, thread=thread).order_by("pk")
    mentioning: dict[int, list[Note]] = {}
    for note in notes.prefetch_related("mentions"):
        for user in note.mentions.all():
            if user.pk != note.author_id and user.is_active and user.is_staff:
                mentioning.setdefault(user.pk, []).append(note)
    preferences = {
        p.operator_id: p
        for p in PushPreferences.objects.filter(operator_id__in=list(mentioning))
    }
    now = timezone.now()
    wanted = [
        user_id
        for user_id in mentioning
        if (p := preferences.get(user_id)) is None
        or (p.mentions and not is_quiet(p, now))
    ]
    if not wanted:
        return []

    def payload(subscription: PushSubscription) -> str:
        own = mentioning[int(subscription.operator_id or 0)]
        last = own[-1]
        body = _shorten(last.body)
        if len(own) > 1:
            more = ngettext("(%(count)s mention)", "(%(count)s mentions)", len(own)) % {
                "count": len(own)
            }
            body = f"{body} {more}"
        return _payload(
            title=_("%(name)s mentioned you · %(visitor)s")
            % {"name": last.author_name, "visitor": thread.visitor.display_name},
            body=body,
            url=_inbox_url(thread.pk),
            thread_id=thread.pk,
        )

    return _in_languages(
        PushSubscription.objects.filter(operator_id__in=wanted),
        thread.pk,
        payload,
        key=lambda s: s.operator_id,
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
    text = _shorten(last.body)
    if not text and last.attachment_id is not None:
        text = _("Sent a file")
    if len(messages) > 1:
        more = ngettext(
            "(%(count)s new message)", "(%(count)s new messages)", len(messages)
        ) % {"count": len(messages)}
        text = f"{text} {more}"
    return text


def _shorten(text: str) -> str:
    text = text.strip()
    return text[: PREVIEW_CHARS - 1] + "…" if len(text) > PREVIEW_CHARS else text


def _inbox_url(thread_id: int) -> str:
    return f"/admin/inbox/#thread-{thread_id}"


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


def _in_languages(
    subscriptions: QuerySet[PushSubscription],
    thread_id: int,
    payload: Callable[[PushSubscription], str],
    *,
    key: Callable[[PushSubscription], Hashable],
) -> list[Delivery]:
    """Each subscription's ``payload``, made in the language the device subscribed
    in (else the site's), once per language and ``key``."""
    made: dict[tuple[str, Hashable], str] = {}
    found = []
    for subscription in subscriptions:
        language = _language(subscription.language)
        done = made.get((language, key(subscription)))
        if done is None:
            with translation.override(language):
                done = made[language, key(subscription)] = payload(subscription)
        found.append(_delivery(subscription, done, thread_id))
    return found


def _language(code: str) -> str:
    known = {c for c, _name in settings.LANGUAGES}
    if code in known:
        return code
    base = code.split("-")[0]
    return base if base in known else settings.LANGUAGE_CODE


def _delivery(subscription: PushSubscription, payload: str, thread_id: int) -> Delivery:
    return Delivery(
        subscription_id=subscription.pk,
        info=SubscriptionInfo(
            endpoint=subscription.endpoint,
            p256dh=subscription.p256dh,
            auth=subscription.auth,
        ),
        payload=payload,
        topic=f"thread-{thread_id}",
    )


def _for(
    subscriptions: QuerySet[PushSubscription], payload: str, thread_id: int
) -> list[Delivery]:
    return [_delivery(s, payload, thread_id) for s in subscriptions]
