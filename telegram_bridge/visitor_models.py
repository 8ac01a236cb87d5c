"""A visitor's own chat with the bot ("Continue in Telegram"): the one-time link
that starts it and the link between the visitor and their Telegram private chat.
Imported by telegram_bridge.models: the names live there too.

Only ``telegram_bridge.visitor_services`` writes these rows.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.models import Visitor


class VisitorLinkToken(models.Model):
    """A one-time token of a ``t.me/<bot>?start=v_<token>`` link (its keyed hash
    only), tied to the visitor who asked for it."""

    visitor = models.ForeignKey(
        Visitor, on_delete=models.CASCADE, related_name="+", verbose_name=_("visitor")
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("visitor Telegram link")
        verbose_name_plural = _("visitor Telegram links")
        indexes = [
            models.Index(fields=["visitor", "created_at"], name="visitor_token_recent")
        ]

    def __str__(self) -> str:
        return f"{self.visitor_id}@{self.created_at:%Y-%m-%d %H:%M}"


class VisitorChat(models.Model):
    """The Telegram private chat of a visitor: waiting for their phone number
    (``verified_at`` unset), then carrying the conversation both ways. A Telegram
    user continues one visitor at a time (the private chat's id is the user's)."""

    visitor = models.OneToOneField(
        Visitor, on_delete=models.CASCADE, related_name="+", verbose_name=_("visitor")
    )
    telegram_user_id = models.BigIntegerField(_("Telegram user id"), unique=True)
    language_code = models.CharField(_("language"), max_length=16, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    verified_at = models.DateTimeField(_("phone verified"), null=True, blank=True)

    class Meta:
        verbose_name = _("visitor's Telegram chat")
        verbose_name_plural = _("visitors' Telegram chats")

    def __str__(self) -> str:
        return f"{self.visitor_id} ↔ {self.telegram_user_id}"
