from __future__ import annotations

from typing import Any

from bleach import callbacks
from bleach.linkifier import Linker, build_url_re
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from chat import services
from chat.admin_safety import block_visitors, unblock_visitors
from chat.models import Attachment, Message, OutboxEntry, Thread, Visitor, WidgetSite
from chat.widget import sites

admin.site.site_header = _("Sohbet")
admin.site.site_title = _("Sohbet")
admin.site.index_title = _("Administration")


# http(s) addresses and e-mail addresses become links; no other scheme does.
_LINKER = Linker(
    url_re=build_url_re(protocols=["http", "https"]),
    parse_email=True,
    callbacks=[callbacks.nofollow],
)


def linkify(text: str) -> SafeString:
    """Message text (plain text) as HTML: all of it escaped first, then http(s) and
    e-mail addresses made links (bleach's linkifier, ``rel="nofollow"``), line
    breaks kept. Nothing in the text can become markup."""
    html = _LINKER.linkify(escape(text))
    return mark_safe(html.replace("\n", "<br>"))  # noqa: S308 - escaped above


def _for_each_thread(queryset: QuerySet[Thread], service: Any) -> int:
    """Run a thread service on each selected thread; returns how many.

    The ids are taken first: counting the queryset afterwards would re-run the
    change list's filters (e.g. "open") against the changed rows.
    """
    thread_ids = list(queryset.values_list("pk", flat=True))
    for thread_id in thread_ids:
        service(thread_id=thread_id)
    return len(thread_ids)


def attachment_html(attachment: Attachment | None) -> SafeString | str:
    """A message's file in the admin: a thumbnail for an image, a player for audio,
    and always a link (the URL checks that the viewer is an operator)."""
    if attachment is None:
        return ""
    url = reverse("attachment", args=[attachment.pk, attachment.name])
    link = format_html(
        '<a href="{}" target="_blank" rel="noopener">{}</a> ({})',
        url,
        attachment.name,
        filesizeformat(attachment.size),
    )
    if attachment.kind == Attachment.Kind.IMAGE:
        return format_html(
            '<a href="{}" target="_blank" rel="noopener" class="sohbet-thumb-link">'
            '<img src="{}" alt="{}" class="sohbet-thumb" loading="lazy"></a>{}',
            url,
            url,
            attachment.name,
            link,
        )
    if attachment.kind == Attachment.Kind.AUDIO:
        return format_html(
            '<audio controls preload="none" src="{}" class="sohbet-audio"></audio>{}',
            url,
            link,
        )
    return link


class AttachmentColumn:
    """The ``attachment_preview`` column and field of the message views (styled by
    static/chat/admin.css, on every admin page)."""

    @admin.display(description=_("attachment"))
    def attachment_preview(self, obj: Message) -> SafeString | str:
        return attachment_html(obj.attachment)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows are written by chat.services only; the admin shows them (a view page,
    without inputs or Save buttons)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MessageInline(AttachmentColumn, admin.TabularInline):
    model = Message
    fields = (
        "seq",
        "author",
        "author_name",
        "linked_body",
        "attachment_preview",
        "source",
        "created_at",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ("seq",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).select_related("attachment")

    @admin.display(description=_("body"))
    def linked_body(self, obj: Message) -> SafeString:
        return linkify(obj.body)


@admin.register(Thread)
class ThreadAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "visitor",
        "status",
        "assigned_to",
        "operator_unread_count",
        "last_message_at",
    )
    list_filter = ("status", "assigned_to", "thread_labels__label")
    search_fields = ("visitor__name", "messages__body")
    list_select_related = ("visitor", "assigned_to")
    fields = (
        "visitor",
        "status",
        "assigned_to",
        "last_seq",
        "last_message_at",
        "operator_unread_count",
        "visitor_unread_count",
        "created_at",
        "updated_at",
        "closed_at",
        "waiting_since",
    )
    inlines = [MessageInline]
    actions = ["close_selected", "reopen_selected"]
    date_hierarchy = "updated_at"

    def has_close_permission(self, request: HttpRequest) -> bool:
        """Closing and reopening (the actions, through chat.services) is what
        "change conversation" allows; the page itself stays read-only."""
        return bool(request.user.has_perm("chat.change_thread"))

    @admin.action(description=_("Close selected conversations"), permissions=["close"])
    def close_selected(self, request: HttpRequest, queryset: QuerySet[Thread]) -> None:
        count = _for_each_thread(queryset, services.close_thread)
        self.message_user(
            request,
            ngettext(
                "%(count)d conversation closed.",
                "%(count)d conversations closed.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Reopen selected conversations"), permissions=["close"])
    def reopen_selected(self, request: HttpRequest, queryset: QuerySet[Thread]) -> None:
        count = _for_each_thread(queryset, services.reopen_thread)
        self.message_user(
            request,
            ngettext(
                "%(count)d conversation reopened.",
                "%(count)d conversations reopened.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Message)
class MessageAdmin(AttachmentColumn, ReadOnlyAdmin):
    list_display = (
        "id",
        "thread",
        "seq",
        "author",
        "author_name",
        "short_body",
        "source",
        "created_at",
    )
    list_filter = ("author", "source")
    search_fields = ("body", "author_name")
    list_select_related = ("thread", "attachment")
    fields = (
        "thread",
        "seq",
        "client_id",
        "author",
        "operator",
        "author_name",
        "linked_body",
        "attachment_preview",
        "source",
        "created_at",
        "edited_at",
    )
    readonly_fields = ("linked_body", "attachment_preview")

    @admin.display(description=_("body"))
    def linked_body(self, obj: Message) -> SafeString:
        return linkify(obj.body)

    @admin.display(description=_("body"))
    def short_body(self, obj: Message) -> str:
        if not obj.body and obj.attachment is not None:
            return f"📎 {obj.attachment.name}"
        return obj.body if len(obj.body) <= 80 else obj.body[:79] + "…"


@admin.register(Visitor)
class VisitorAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "email", "locale", "first_seen_at", "last_seen_at")
    search_fields = ("name", "email")
    readonly_fields = (
        "name",
        "email",
        "email_source",
        "email_unsubscribed_at",
        "locale",
        "user_agent",
        "last_page",
        "first_seen_at",
        "last_seen_at",
    )
    exclude = ("session_key",)
    actions = [block_visitors, unblock_visitors]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)  # erasure: removes threads and messages

    def delete_model(self, request: HttpRequest, obj: Visitor) -> None:
        services.erase_visitor(visitor_id=obj.pk)

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[Visitor]
    ) -> None:
        for visitor_id in list(queryset.values_list("pk", flat=True)):
            services.erase_visitor(visitor_id=visitor_id)


@admin.register(OutboxEntry)
class OutboxEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "channel",
        "kind",
        "thread",
        "message",
        "status",
        "attempts",
        "created_at",
        "last_error",
    )
    list_filter = ("channel", "status", "kind")
    list_select_related = ("thread", "message")
    actions = ["retry_selected"]
    readonly_fields = (
        "channel",
        "kind",
        "thread",
        "message",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "done_at",
    )

    @admin.action(description=_("Try selected failed deliveries again"))
    def retry_selected(
        self, request: HttpRequest, queryset: QuerySet[OutboxEntry]
    ) -> None:
        count = services.retry_failed_outbox(
            entry_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery queued again.",
                "%(count)d deliveries queued again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )


@admin.register(WidgetSite)
class WidgetSiteAdmin(admin.ModelAdmin):
    """The sites allowed to embed the widget (beside SOHBET_WIDGET_SITES)."""

    list_display = ("origin", "created_at")
    fields = ("origin",)

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        sites.forget()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        sites.forget()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        super().delete_queryset(request, queryset)
        sites.forget()


# Pages registered by modules of their own (one-row pages, reports and exports,
# canned replies, labels and automatic assignment, private notes, push).
from chat import (  # noqa: E402, F401
    admin_appearance,
    admin_canned,
    admin_data,
    admin_desk,
    admin_hours,
    admin_notes,
    admin_push,
)
