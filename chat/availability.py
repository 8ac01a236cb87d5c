"""Reads of whether the team is there: the business hours set in the admin (a copy in
each process, ``realtime.localcopy``: chat.services.availability tells a change),
what a visitor's page is told of them, the automatic reply's text, and the
operators' away switches.

Someone is there when the hours are open (or not used) and an operator who is not
away is online (chat.presence.OPERATORS holds only those).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from chat import events, hours, presence
from chat.models import BUSINESS_HOURS_ID, BusinessHours, OperatorStatus
from realtime.localcopy import LocalCopy

CACHE_KEY = "chat.business_hours"
LANGUAGES = ("en", "tr")


def _load_business_hours() -> dict[str, Any]:
    row = BusinessHours.objects.filter(pk=BUSINESS_HOURS_ID).first()
    row = row or BusinessHours()
    return {
        field.attname: getattr(row, field.attname)
        for field in BusinessHours._meta.concrete_fields
        if field.attname not in ("id", "updated_at")
    }


# Loaded again at least every SOHBET_APPEARANCE_CACHE_SECONDS.
BUSINESS_HOURS = LocalCopy(
    CACHE_KEY,
    _load_business_hours,
    max_age=lambda: settings.SOHBET_APPEARANCE_CACHE_SECONDS,
)


def get_business_hours_values() -> dict[str, Any]:
    """The business hours' fields (defaults while the row does not exist:
    ``BUSINESS_HOURS``, this process's copy)."""
    return dict(BUSINESS_HOURS.get())


def automatic_reply_off() -> bool:
    """Whether this process's copy of the hours, fresh, says the automatic reply is
    off; False when it cannot tell without the cache (no I/O: for the event loop)."""
    values = BUSINESS_HOURS.peek()
    return values is not None and not values["auto_reply_enabled"]


def schedule_from(values: dict[str, Any]) -> hours.Schedule | None:
    """The schedule of stored values; None when opening hours are not used (always
    open). Values that no longer parse (a time zone dropped from the system's
    database) read as UTC, a day closed, no such holiday."""
    if not values["enabled"]:
        return None
    zone = values["time_zone"]
    weekly: dict[int, list[hours.Range]] = {}
    for day, ranges in (values["weekly"] or {}).items():
        try:
            weekly[int(day)] = hours.parse_ranges(
                ", ".join(f"{o}-{c}" for o, c in ranges)
            )
        except (TypeError, ValueError):
            continue
    holidays: set[dt.date] = set()
    for entry in values["holidays"] or []:
        try:
            holidays.add(dt.date.fromisoformat(entry[0]))
        except (TypeError, ValueError, IndexError):
            continue
    return hours.Schedule(
        time_zone=zone if hours.is_valid_time_zone(zone) else "UTC",
        weekly=weekly,
        holidays=frozenset(holidays),
    )


def get_schedule() -> hours.Schedule | None:
    return schedule_from(get_business_hours_values())


def is_open_now(*, now: dt.datetime | None = None) -> bool:
    """Whether the business hours are open (always, when they are not used)."""
    schedule = get_schedule()
    return schedule is None or hours.is_open(schedule, at=now or timezone.now())


def hours_payload(*, now: dt.datetime | None = None) -> list[list[str]] | None:
    """What a visitor's page is told of the hours: None when they are not used
    (always open), else the next open intervals (chat.hours.upcoming) as pairs of
    ISO instants; the page works out from them whether it is open, until when, and
    when the team is back, in its visitor's time zone."""
    return payload_of(get_schedule(), now=now)


def payload_of(
    schedule: hours.Schedule | None, *, now: dt.datetime | None = None
) -> list[list[str]] | None:
    if schedule is None:
        return None
    found = hours.upcoming(schedule, at=now or timezone.now())
    return [[_iso(start), _iso(end)] for start, end in found]


def _iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def automatic_reply_text(language: str | None) -> str | None:
    """The automatic reply in ``language`` (English when it is not one of
    LANGUAGES); None when it is switched off."""
    values = get_business_hours_values()
    if not values["auto_reply_enabled"]:
        return None
    lang = (language or "").split("-")[0].lower()
    lang = lang if lang in LANGUAGES else LANGUAGES[0]
    with translation.override(lang):
        return values[f"auto_reply_{lang}"] or default_automatic_reply()


def default_automatic_reply() -> str:
    return _(
        "Thanks for your message! Nobody from the team can answer right now. "
        "We will reply here as soon as we can."
    )


def list_away_operator_ids() -> set[int]:
    return set(
        OperatorStatus.objects.filter(away=True).values_list("user_id", flat=True)
    )


def list_team() -> list[dict[str, Any]]:
    """Active staff users and whether each is online, away or offline
    (events.team_member_payload), for the inbox."""
    from accounts.models import User

    users = list(
        User.objects.filter(is_staff=True, is_active=True).order_by("username")
    )
    away = list_away_operator_ids()
    online = presence.online_operators([user.pk for user in users])
    return [
        events.team_member_payload(
            user_id=user.pk,
            name=user.display_name,
            status=team_status(away=user.pk in away, online=user.pk in online),
        )
        for user in users
    ]


def team_status(*, away: bool, online: bool) -> str:
    return "away" if away else ("online" if online else "offline")
