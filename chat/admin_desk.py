"""The desk's admin pages: the labels (name, colour, how many conversations carry
each) and the automatic assignment's switch (one row). Writes go through
chat.services so that every inbox hears of them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy

from chat.admin_singleton import SingletonAdmin
from chat.models import AUTO_ASSIGNMENT_ID, AutoAssignment, Label
from chat.services import assignment, labels


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ("name", "swatch", "thread_count")
    search_fields = ("name",)
    fields = ("name", "colour")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Label]:
        return super().get_queryset(request).annotate(threads=Count("thread_labels"))

    @admin.display(description=gettext_lazy("colour"))
    def swatch(self, obj: Label) -> SafeString:
        return format_html(
            '<span class="label-chip" style="background:{}">{}</span>',
            obj.colour,
            obj.get_colour_display(),
        )

    @admin.display(description=gettext_lazy("conversations"), ordering="threads")
    def thread_count(self, obj: Label) -> int:
        return int(getattr(obj, "threads", 0))

    def save_model(
        self, request: HttpRequest, obj: Label, form: Any, change: bool
    ) -> None:
        labels.save_label(label=obj)

    def delete_model(self, request: HttpRequest, obj: Label) -> None:
        labels.delete_labels(label_ids=[obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Label]) -> None:
        labels.delete_labels(label_ids=list(queryset.values_list("pk", flat=True)))


@admin.register(AutoAssignment)
class AutoAssignmentAdmin(SingletonAdmin):
    singleton_id = AUTO_ASSIGNMENT_ID
    fields = ("enabled",)
    readonly_fields = ()

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return (
            (
                None,
                {
                    "fields": ("enabled",),
                    "description": gettext_lazy(
                        "Each new conversation, and each one a visitor reopens, goes "
                        "to the next operator in turn among those online and not "
                        "away. With nobody online it stays unassigned. Operators can "
                        "still reassign it."
                    ),
                },
            ),
        )

    def save_model(
        self, request: HttpRequest, obj: AutoAssignment, form: Any, change: bool
    ) -> None:
        assignment.set_auto_assignment(enabled=obj.enabled)
