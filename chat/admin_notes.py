"""Private notes in the admin: a read-only list (who wrote what, in which
conversation), for a site owner to look through; written in the inbox and Telegram."""

from __future__ import annotations

from django.contrib import admin
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from chat.admin import ReadOnlyAdmin
from chat.models import Note


@admin.register(Note)
class NoteAdmin(ReadOnlyAdmin):
    list_display = ("id", "thread", "author_name", "short_body", "source", "created_at")
    list_filter = ("source",)
    search_fields = ("body", "author_name")
    list_select_related = ("thread",)
    fields = (
        "thread",
        "author",
        "author_name",
        "body",
        "source",
        "mentions",
        "created_at",
    )
    date_hierarchy = "created_at"

    @admin.display(description=_("note"))
    def short_body(self, obj: Note) -> str:
        return Truncator(obj.body).chars(80)
