"""The push subscriptions in the admin: which devices of which operator or visitor
are told, and when they last were; deleting one stops it (the browser subscribes
again when its person asks)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from chat.models import PushSubscription


@admin.register(PushSubscription)
class PushSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("operator", "visitor", "user_agent", "created_at", "last_sent_at")
    list_filter = ("created_at",)
    list_select_related = ("operator", "visitor")
    search_fields = ("operator__username", "user_agent")
    readonly_fields = (
        "endpoint",
        "operator",
        "visitor",
        "user_agent",
        "created_at",
        "last_sent_at",
    )
    exclude = ("p256dh", "auth")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: PushSubscription | None = None
    ) -> bool:
        return False
