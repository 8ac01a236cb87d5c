"""Private notes: what operators write in a conversation for each other. A table of
their own, so that no path of the visitor's (socket, sync, history, transcript,
widget) can read one. Written by chat.services.notes; imported by chat.models."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Note(models.Model):
    """A note in a thread, seen by operators only; ``mentions``: the operators it
    named (@username or @first name), who were told of it."""

    class Source(models.TextChoices):
        WEB = "web", _("Web")
        TELEGRAM = "telegram", _("Telegram")

    thread = models.ForeignKey(
        "chat.Thread",
        on_delete=models.CASCADE,
        related_name="notes",
        verbose_name=_("conversation"),
    )
    client_id = models.UUIDField(_("client id"), default=uuid.uuid4)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notes",
        verbose_name=_("author"),
    )
    author_name = models.CharField(_("author name"), max_length=150, blank=True)
    body = models.TextField(_("body"))
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.WEB
    )
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        verbose_name=_("mentions"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("private note")
        verbose_name_plural = _("private notes")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["thread", "client_id"], name="note_unique_client_id"
            ),
        ]

    def __str__(self) -> str:
        return str(_("Note #%(id)s") % {"id": self.pk})
