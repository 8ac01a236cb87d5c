"""Blocks (a visitor, an address or network kept out) and the visitors' ratings of
their conversations. Imported by chat.models: the names live there too."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Block(models.Model):
    """A visitor, or a client address or network (or both: a visitor blocked with
    their network), kept out until lifted. While ``lifted_at`` is empty nothing they
    send is stored (chat.safety)."""

    class Source(models.TextChoices):
        INBOX = "inbox", _("Inbox")
        TELEGRAM = "telegram", _("Telegram")
        ADMIN = "admin", _("Admin")

    visitor = models.ForeignKey(
        "chat.Visitor",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="blocks",
        verbose_name=_("visitor"),
    )
    # An address or network in CIDR form (203.0.113.0/24, 2001:db8::/64), "" for
    # none: what chat.safety.network_of made of the visitor's address.
    network = models.CharField(_("address or network"), max_length=49, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    source = models.CharField(
        _("blocked from"), max_length=10, choices=Source.choices, default=Source.ADMIN
    )
    blocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("blocked by"),
    )
    created_at = models.DateTimeField(_("blocked at"), default=timezone.now)
    lifted_at = models.DateTimeField(_("unblocked at"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("unblocked by"),
    )

    class Meta:
        verbose_name = _("block")
        verbose_name_plural = _("blocks")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(visitor__isnull=False) | ~Q(network=""),
                name="block_has_target",
            )
        ]
        indexes = [
            models.Index(
                fields=["visitor"],
                condition=Q(lifted_at__isnull=True),
                name="block_active_visitor",
            ),
            models.Index(
                fields=["network"],
                condition=Q(lifted_at__isnull=True) & ~Q(network=""),
                name="block_active_network",
            ),
        ]

    def __str__(self) -> str:
        target = self.network if self.visitor_id is None else str(self.visitor)
        return str(_("Block of %(target)s") % {"target": target})


class Rating(models.Model):
    """A visitor's rating of a closed conversation (1 to 5 stars, a comment): one
    per closing, changeable for a few minutes (chat.services.rate_thread)."""

    thread = models.ForeignKey(
        "chat.Thread",
        on_delete=models.CASCADE,
        related_name="ratings",
        verbose_name=_("conversation"),
    )
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("rated at"), default=timezone.now)
    updated_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5), name="rating_score_1_5"
            )
        ]
        indexes = [
            models.Index(fields=["thread", "-created_at"], name="rating_thread"),
            models.Index(fields=["created_at"], name="rating_created"),
        ]

    def __str__(self) -> str:
        return f"{self.score}/5"
