"""The business hours' page in the admin: the one row (no list, no adding, no
deleting), each weekday's opening hours as typed ranges, holidays one a line, the
time zone, and the automatic reply; what it means now is shown beside them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chat import availability, hours, services
from chat.admin_singleton import SingletonAdmin
from chat.models import BUSINESS_HOURS_ID, BusinessHours

DAYS = (
    ("monday", gettext_lazy("Monday")),
    ("tuesday", gettext_lazy("Tuesday")),
    ("wednesday", gettext_lazy("Wednesday")),
    ("thursday", gettext_lazy("Thursday")),
    ("friday", gettext_lazy("Friday")),
    ("saturday", gettext_lazy("Saturday")),
    ("sunday", gettext_lazy("Sunday")),
)
SETTINGS = (
    "enabled",
    "time_zone",
    "auto_reply_enabled",
    "auto_reply_en",
    "auto_reply_tr",
)
MAX_HOLIDAYS = 366
MAX_HOLIDAY_LABEL = 100
MAX_DAY_TEXT = 200
# Bounded before the lines are read: a date, a space, a label, a line break each.
MAX_HOLIDAY_TEXT = MAX_HOLIDAYS * (10 + 1 + MAX_HOLIDAY_LABEL + 2)


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(hours.time_zones())]


def day_field(label: Any, *, last: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=MAX_DAY_TEXT,
        widget=forms.TextInput(attrs={"placeholder": "09:00-12:00, 13:00-18:00"}),
        help_text=gettext_lazy("Empty: closed.") if last else "",
    )


class BusinessHoursForm(forms.ModelForm):
    monday = day_field(DAYS[0][1])
    tuesday = day_field(DAYS[1][1])
    wednesday = day_field(DAYS[2][1])
    thursday = day_field(DAYS[3][1])
    friday = day_field(DAYS[4][1])
    saturday = day_field(DAYS[5][1])
    sunday = day_field(DAYS[6][1], last=True)
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"),
        choices=time_zone_choices,
        help_text=gettext_lazy(
            "The hours and holidays are those of this time zone; visitors see them "
            "in their own."
        ),
    )
    holiday_lines = forms.CharField(
        label=gettext_lazy("Holidays"),
        required=False,
        max_length=MAX_HOLIDAY_TEXT,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
        help_text=gettext_lazy(
            "One date a line, closed all day, with an optional name: "
            "2026-12-31 New Year's Eve."
        ),
    )

    class Meta:
        model = BusinessHours
        fields = SETTINGS
        widgets = {
            "auto_reply_en": forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
            "auto_reply_tr": forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        weekly = self.instance.weekly or {}
        for index, (name, _label) in enumerate(DAYS):
            ranges = weekly.get(str(index), [])
            self.fields[name].initial = ", ".join(f"{o}-{c}" for o, c in ranges)
        self.fields["holiday_lines"].initial = "\n".join(
            " ".join(filter(None, entry)) for entry in self.instance.holidays or []
        )
        self.fields["time_zone"].initial = self.instance.time_zone

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        weekly: dict[str, list[list[str]]] = {}
        for index, (name, _label) in enumerate(DAYS):
            try:
                ranges = hours.parse_ranges(cleaned.get(name) or "")
            except ValueError as exc:
                self.add_error(
                    name,
                    _(
                        "“%(part)s” is not a time range. Enter ranges such as "
                        "09:00-17:00, separated by commas; 18:00-02:00 ends the "
                        "next morning, 00:00-24:00 is all day."
                    )
                    % {"part": exc.args[0]},
                )
                continue
            if ranges:
                weekly[str(index)] = [[f"{o:%H:%M}", f"{c:%H:%M}"] for o, c in ranges]
        cleaned["weekly"] = weekly
        cleaned["holidays"] = self._holidays(cleaned.get("holiday_lines") or "")
        return cleaned

    def _holidays(self, text: str) -> list[list[str]]:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if len(lines) > MAX_HOLIDAYS:
            self.add_error(
                "holiday_lines",
                _("At most %(max)s holidays.") % {"max": MAX_HOLIDAYS},
            )
            return []
        found: dict[str, str] = {}
        for line in lines:
            day, _sep, label = line.partition(" ")
            try:
                date = dt.date.fromisoformat(day)
            except ValueError:
                self.add_error(
                    "holiday_lines",
                    _("“%(line)s” does not start with a date such as 2026-12-31.")
                    % {"line": line[:40]},
                )
                continue
            found[date.isoformat()] = label.strip()[:MAX_HOLIDAY_LABEL]
        return [[day, label] for day, label in sorted(found.items())]


@admin.register(BusinessHours)
class BusinessHoursAdmin(SingletonAdmin):
    singleton_id = BUSINESS_HOURS_ID

    def singleton_default(self) -> BusinessHours:
        return BusinessHours(pk=BUSINESS_HOURS_ID, time_zone=settings.TIME_ZONE)

    form = BusinessHoursForm
    readonly_fields = ("status_now",)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return (
            (
                None,
                {
                    "fields": ("enabled", "time_zone", "status_now"),
                    "description": gettext_lazy(
                        "Without opening hours the team counts as open at all "
                        "times; visitors then see whether an operator is online."
                    ),
                },
            ),
            (
                gettext_lazy("Opening hours"),
                {"fields": tuple(name for name, _label in DAYS)},
            ),
            (gettext_lazy("Holidays"), {"fields": ("holiday_lines",)}),
            (
                gettext_lazy("Automatic reply"),
                {
                    "fields": ("auto_reply_enabled", "auto_reply_en", "auto_reply_tr"),
                    "description": gettext_lazy(
                        "Posted in the conversation, once, when a visitor starts "
                        "one outside the opening hours or while no operator is "
                        "online. Empty texts send the default one, translated."
                    ),
                },
            ),
        )

    def save_model(
        self, request: HttpRequest, obj: BusinessHours, form: Any, change: bool
    ) -> None:
        data = form.cleaned_data
        values = {name: data[name] for name in SETTINGS}
        values.update(weekly=data["weekly"], holidays=data["holidays"])
        services.update_business_hours(values=values)

    @admin.display(description=gettext_lazy("now"))
    def status_now(self, obj: BusinessHours) -> str:
        values = {
            f.attname: getattr(obj, f.attname) for f in BusinessHours._meta.fields
        }
        schedule = availability.schedule_from(values)
        if schedule is None:
            return _("Open: opening hours are not used.")
        now = timezone.now()
        if hours.is_open(schedule, at=now):
            return _("Open now.")
        opening = hours.next_opening(schedule, at=now)
        if opening is None:
            return _("Closed, with no opening in the coming year.")
        local = opening.astimezone(schedule.zone)
        return _("Closed now; opens %(when)s (%(zone)s).") % {
            "when": date_format(local, "l j F, H:i"),
            "zone": schedule.time_zone,
        }
