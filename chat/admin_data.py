"""Two admin pages under Chat that are not tables: the reports (chat.reports) and
the export of conversations in a date range (chat.exports, streamed). Each is a
proxy model's page (chat.report_models) and needs its "view" permission."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any, cast

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chat import exports, reports
from chat.models import ConversationExport, ConversationReport


class DateRangeForm(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("The end comes before the start."))
            if (end - start).days + 1 > reports.MAX_RANGE_DAYS:
                raise forms.ValidationError(
                    _("Choose at most %(days)d days.")
                    % {"days": reports.MAX_RANGE_DAYS}
                )
        return data


class ExportForm(DateRangeForm):
    format = forms.ChoiceField(
        label=gettext_lazy("Format"),
        choices=[("csv", "CSV"), ("json", "JSON")],
        initial="csv",
    )


class PageAdmin(admin.ModelAdmin):
    """A page of its own instead of a list; nothing to add, change or delete."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def page_context(self, request: HttpRequest, title: str) -> dict[str, Any]:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "time_zone": str(timezone.get_current_timezone()),
            "max_days": reports.MAX_RANGE_DAYS,
        }


def range_form(form_class: type[DateRangeForm], request: HttpRequest) -> Any:
    """The form bound to the query, or to the default range (the last 7 days)."""
    if "start" in request.GET or "end" in request.GET:
        return form_class(request.GET)
    start, end = reports.default_range()
    return form_class({"start": start, "end": end, "format": "csv"})


@admin.register(ConversationExport)
class ConversationExportAdmin(PageAdmin):
    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = self.page_context(request, _("Export conversations"))
        form = range_form(ExportForm, request)
        if request.GET.get("download") and form.is_valid():
            # Admin pages are typed as pages; this one may answer with a stream.
            return cast(HttpResponse, self._stream(request, form.cleaned_data))
        context["form"] = form
        return TemplateResponse(request, "admin/chat/export.html", context)

    def _stream(
        self, request: HttpRequest, data: dict[str, Any]
    ) -> StreamingHttpResponse:
        tz = timezone.get_current_timezone()
        first, after = reports.date_bounds(data["start"], data["end"], tz)
        kind = data["format"]
        stream = exports.stream_csv if kind == "csv" else exports.stream_json
        response = StreamingHttpResponse(
            stream(start=first, end=after, absolute=request.build_absolute_uri),
            content_type=(
                "text/csv; charset=utf-8"
                if kind == "csv"
                else "application/json; charset=utf-8"
            ),
        )
        name = f"conversations-{data['start']}-{data['end']}.{kind}"
        response["Content-Disposition"] = exports.attachment_disposition(name)
        response["Cache-Control"] = "private, no-store"
        return response


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = round(seconds)
    if seconds < 60:
        return _("%(n)d s") % {"n": seconds}
    if seconds < 3600:
        return _("%(m)d min %(s)d s") % {"m": seconds // 60, "s": seconds % 60}
    if seconds < 86400:
        hours, rest = divmod(seconds, 3600)
        return _("%(h)d h %(m)d min") % {"h": hours, "m": rest // 60}
    days, rest = divmod(seconds, 86400)
    return _("%(d)d d %(h)d h") % {"d": days, "h": rest // 3600}


def row_cells(row: reports.OperatorRow, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "started": row.started,
        "answered": row.answered,
        "missed": row.missed,
        "first_median": duration_text(row.first_response.median),
        "first_p90": duration_text(row.first_response.p90),
        "resolution_median": duration_text(row.resolution.median),
        "resolution_p90": duration_text(row.resolution.p90),
        "rating": "–" if row.rating is None else f"{row.rating:.1f}",
        "rating_count": row.rating_count,
    }


def _row_name(row: reports.OperatorRow) -> str:
    if row.operator_id == reports.NO_OPERATOR:
        return _("Nobody (unassigned, unanswered)")
    return row.name or _("Operator #%(id)s") % {"id": row.operator_id}


def _level(count: int, top: int) -> int:
    """A heat map cell's shade, 0 (none) to 4 (the busiest)."""
    return 0 if not count or not top else 1 + min(3, (count * 4 - 1) // top)


@admin.register(ConversationReport)
class ConversationReportAdmin(PageAdmin):
    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = self.page_context(request, _("Reports"))
        form = range_form(DateRangeForm, request)
        context["form"] = form
        if not form.is_valid():
            return TemplateResponse(request, "admin/chat/reports.html", context)
        report = reports.build_report(
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            tz=timezone.get_current_timezone(),
        )
        if request.GET.get("format") == "csv":
            return self._csv(report)
        top = max((row.started for row in report.rows), default=0)
        days_top = max((count for _day, count in report.days), default=0)
        context.update(
            report=report,
            rows=[
                {**row_cells(row, _row_name(row)), "bar": _percent(row.started, top)}
                for row in report.rows
            ],
            total=row_cells(report.total, _("All")),
            hours=[
                (day, [(n, _level(n, report.hours_max)) for n in counts])
                for day, counts in zip(_weekdays(), report.hours, strict=True)
            ],
            hour_labels=[f"{hour:02d}" for hour in range(24)],
            days=[(day, n, _percent(n, days_top)) for day, n in report.days],
            csv_query=_with(request, format="csv"),
        )
        return TemplateResponse(request, "admin/chat/reports.html", context)

    def _csv(self, report: reports.Report) -> HttpResponse:
        out = io.StringIO()
        writer = csv.writer(out)
        header = [
            _("Operator"),
            _("Started"),
            _("Answered"),
            _("Missed"),
            _("First response, median (s)"),
            _("First response, p90 (s)"),
            _("Resolution, median (s)"),
            _("Resolution, p90 (s)"),
        ]
        if report.has_ratings:
            header += [_("Rating"), _("Ratings")]
        writer.writerow(header)
        for row in [*report.rows, report.total]:
            name = _("All") if row is report.total else _row_name(row)
            cells = [
                name,
                row.started,
                row.answered,
                row.missed,
                _seconds(row.first_response.median),
                _seconds(row.first_response.p90),
                _seconds(row.resolution.median),
                _seconds(row.resolution.p90),
            ]
            if report.has_ratings:
                rating = "" if row.rating is None else f"{row.rating:.2f}"
                cells += [rating, row.rating_count]
            writer.writerow(cells)
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        name = f"report-{report.start}-{report.end}.csv"
        response["Content-Disposition"] = exports.attachment_disposition(name)
        return response


def _seconds(value: float | None) -> str:
    return "" if value is None else str(round(value))


def _percent(count: int, top: int) -> int:
    return round(100 * count / top) if top else 0


def _weekdays() -> list[str]:
    monday = dt.date(2024, 1, 1)  # a Monday
    return [date_format(monday + dt.timedelta(days=n), "l") for n in range(7)]


def _with(request: HttpRequest, **values: str) -> str:
    query = request.GET.copy()
    for key, value in values.items():
        query[key] = value
    return query.urlencode()
