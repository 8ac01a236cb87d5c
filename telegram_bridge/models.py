"""What the bridge remembers: its lease and update offset, and which Telegram topic or
message carries which conversation or chat message.

Only ``telegram_bridge.services`` writes these rows.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.models import Message, Thread, Visitor


class BridgeState(models.Model):
    """One row (pk=1): the lease of the running bridge, the next update offset, the
    heartbeat the health URL reads, and when the operators were last told in Telegram
    that deliveries failed."""

    update_offset = models.BigIntegerField(_("next update id"), default=0)
    lease_owner = models.CharField(_("lease owner"), max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("heartbeat"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    outbox_backlog = models.PositiveIntegerField(_("outbox backlog"), default=0)
    chat_is_forum = models.BooleanField(_("operator chat is a forum"), null=True)
    bot_username = models.CharField(_("bot username"), max_length=64, blank=True)
    failures_told_at = models.DateTimeField(
        _("undelivered messages last told"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("bridge state")
        verbose_name_plural = _("bridge state")

    def __str__(self) -> str:
        return str(_("Telegram bridge"))


class TopicLink(models.Model):
    """The forum topic of a visitor in the operator chat (reused for all their
    conversations)."""

    visitor = models.ForeignKey(
        Visitor, on_delete=models.CASCADE, related_name="+", verbose_name=_("visitor")
    )
    chat_id = models.BigIntegerField(_("chat id"))
    message_thread_id = models.BigIntegerField(_("topic id"))
    name = models.CharField(_("name"), max_length=128)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        constraints = [
            models.UniqueConstraint(
                fields=["chat_id", "visitor"], name="topic_one_per_visitor"
            ),
            models.UniqueConstraint(
                fields=["chat_id", "message_thread_id"], name="topic_unique_id"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MessageLink(models.Model):
    """A Telegram message that carries (part of) a chat message, either way."""

    class Direction(models.TextChoices):
        OUT = "out", _("To Telegram")
        IN = "in", _("From Telegram")

    chat_id = models.BigIntegerField(_("chat id"))
    telegram_message_id = models.BigIntegerField(_("Telegram message id"))
    thread = models.ForeignKey(
        Thread,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("conversation"),
    )
    message = models.ForeignKey(
        Message,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("message"),
    )
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices
    )
    reacted_at = models.DateTimeField(_("read reaction sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("message link")
        verbose_name_plural = _("message links")
        constraints = [
            models.UniqueConstraint(
                fields=["chat_id", "telegram_message_id"], name="message_link_unique"
            )
        ]
        indexes = [models.Index(fields=["message"], name="message_link_message")]

    def __str__(self) -> str:
        return f"{self.chat_id}/{self.telegram_message_id}"


from telegram_bridge.visitor_models import VisitorChat as VisitorChat  # noqa: E402
from telegram_bridge.visitor_models import (  # noqa: E402
    VisitorLinkToken as VisitorLinkToken,
)
