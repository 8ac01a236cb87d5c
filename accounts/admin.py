from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import services
from accounts.models import TelegramLink, User


@admin.register(User)
class OperatorAdmin(UserAdmin):
    """Django's user admin, with "sign out everywhere" for the selected users."""

    actions = ["end_sessions"]

    @admin.action(description=_("Sign out everywhere"))
    def end_sessions(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            services.end_sessions(user=user)
        count = len(queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)s user was signed out everywhere.",
                "%(count)s users were signed out everywhere.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(TelegramLink)
class TelegramLinkAdmin(admin.ModelAdmin):
    """Who is linked to which Telegram account. Links are made by the operator (the
    Telegram page); deleting one here unlinks through accounts.services."""

    list_display = ("user", "telegram_username", "telegram_user_id", "linked_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "telegram_username")
    readonly_fields = (
        "user",
        "telegram_user_id",
        "telegram_username",
        "linked_at",
        "recovery_codes_shown",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def delete_model(self, request: HttpRequest, obj: TelegramLink) -> None:
        services.unlink_telegram(user=obj.user)

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[TelegramLink]
    ) -> None:
        for link in queryset.select_related("user"):
            services.unlink_telegram(user=link.user)
