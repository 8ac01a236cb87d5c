"""Web Push: the browsers that asked to be notified (an operator's devices, a
visitor's) and what each operator wants to hear (chat.push). Imported by
chat.models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PushSubscription(models.Model):
    """One browser's push subscription (``PushManager.subscribe``), for an operator
    or for a visitor: exactly one of the two. The endpoint names the browser at its
    push service, the keys encrypt what is sent to it (RFC 8291)."""

    endpoint = models.URLField(_("endpoint"), max_length=1000, unique=True)
    p256dh = models.CharField(_("public key"), max_length=120)
    auth = models.CharField(_("auth secret"), max_length=40)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="push_subscriptions",
        verbose_name=_("operator"),
    )
    visitor = models.ForeignKey(
        "chat.Visitor",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="push_subscriptions",
        verbose_name=_("visitor"),
    )
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    # The page's language when it subscribed (the device's): what it is told in.
    language = models.CharField(_("language"), max_length=16, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_sent_at = models.DateTimeField(_("last sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")
        constraints = [
            models.CheckConstraint(
                condition=Q(operator__isnull=True, visitor__isnull=False)
                | Q(operator__isnull=False, visitor__isnull=True),
                name="pushsubscription_one_owner",
            )
        ]

    def __str__(self) -> str:
        return self.endpoint[:60]


class PushPreferences(models.Model):
    """What one operator is pushed, and when not (quiet hours in their time zone;
    ``quiet_from`` after ``quiet_until`` spans midnight). No row: everything, at
    any hour."""

    operator = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="push_preferences",
        verbose_name=_("operator"),
    )
    new_conversations = models.BooleanField(_("new conversations"), default=True)
    messages = models.BooleanField(
        _("new messages in my or unassigned conversations"), default=True
    )
    mentions = models.BooleanField(_("mentions"), default=True)
    quiet_from = models.TimeField(_("quiet from"), null=True, blank=True)
    quiet_until = models.TimeField(_("quiet until"), null=True, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("push preferences")
        verbose_name_plural = _("push preferences")

    def __str__(self) -> str:
        return str(self.operator_id)
