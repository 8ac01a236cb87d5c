"""Canned replies: saved answers an operator inserts with ``/shortcut`` (the inbox)
or ``/r shortcut`` (Telegram). Shared with the team (no owner) or one operator's own.

Imported by chat.models: the names live there too."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_SHORTCUT = 32
MAX_TITLE = 80
SHORTCUT_PATTERN = r"^[\w-]+\Z"


def canned_file_path(instance: CannedReply | None, filename: str) -> str:
    """A random name, as attachments have: nothing of the original name is kept."""
    extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    return f"canned/{uuid.uuid4().hex}.{extension}"


class CannedReply(models.Model):
    """A saved reply. Its file (optional) was checked as an upload is
    (chat.uploads.clean_upload) and is copied into each conversation it is sent in."""

    title = models.CharField(_("title"), max_length=MAX_TITLE)
    shortcut = models.CharField(
        _("shortcut"),
        max_length=MAX_SHORTCUT,
        validators=[
            RegexValidator(
                SHORTCUT_PATTERN,
                _("Use letters, digits, “-” and “_” only, without spaces."),
            )
        ],
        help_text=_("Typed after “/” in the inbox, or after “/r ” in Telegram."),
    )
    body = models.TextField(
        _("text"),
        max_length=4000,
        help_text=_("Placeholders: {visitor_name}, {operator_name}, {team_name}."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_replies",
        verbose_name=_("owner"),
        help_text=_("Empty: shared with the whole team."),
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Empty: any language."),
    )
    file = models.FileField(
        _("file"), upload_to=canned_file_path, max_length=200, blank=True
    )
    file_name = models.CharField(_("file name"), max_length=160, blank=True)
    file_kind = models.CharField(_("file kind"), max_length=10, blank=True)
    file_type = models.CharField(_("file content type"), max_length=100, blank=True)
    file_size = models.PositiveBigIntegerField(_("file size"), default=0)
    file_width = models.PositiveIntegerField(null=True, blank=True)
    file_height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["shortcut", "pk"]
        permissions = [("manage_shared_cannedreply", _("Can manage shared replies"))]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "shortcut"], name="canned_unique_own_shortcut"
            ),
            models.UniqueConstraint(
                fields=["shortcut"],
                condition=Q(owner__isnull=True),
                name="canned_unique_shared_shortcut",
            ),
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut}"

    @property
    def is_shared(self) -> bool:
        return self.owner_id is None
