"""What the site's owner sets in the admin (the sites with the widget, the
appearance, the business hours) and the team's availability (operators away).
Imported by chat.models: the names live there too."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WidgetSite(models.Model):
    """A site allowed to embed the widget, besides SOHBET_WIDGET_SITES
    (chat.widget.sites)."""

    origin = models.CharField(
        _("site"),
        max_length=200,
        unique=True,
        help_text=_(
            "The address of the site, without a path: https://www.example.com, or "
            "https://*.example.com for all its subdomains."
        ),
    )
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("site with the widget")
        verbose_name_plural = _("sites with the widget")
        ordering = ["origin"]

    def __str__(self) -> str:
        return self.origin

    def clean(self) -> None:
        from chat.widget.sites import normalize

        try:
            self.origin = normalize(self.origin)
        except ValueError as exc:
            raise ValidationError({"origin": str(exc)}) from exc


DEFAULT_COLOR = "#4f46e5"
APPEARANCE_ID = 1  # the one row of Appearance
MAX_TEAM_AVATARS = 3


class Appearance(models.Model):
    """How the chat looks on the site (the page and the widget): one row, whose id
    is APPEARANCE_ID; written by chat.services, read through chat.selectors. Each
    text has an English and a Turkish field; an empty one means the default text."""

    class Position(models.TextChoices):
        BOTTOM_RIGHT = "bottom-right", _("Bottom right")
        BOTTOM_LEFT = "bottom-left", _("Bottom left")

    color = models.CharField(
        _("colour"),
        max_length=7,
        default=DEFAULT_COLOR,
        validators=[
            RegexValidator(
                r"^#[0-9a-f]{6}\Z",
                _("Enter a colour as # and six hexadecimal digits, e.g. #4f46e5."),
            )
        ],
    )
    position = models.CharField(
        _("position"),
        max_length=12,
        choices=Position.choices,
        default=Position.BOTTOM_RIGHT,
    )
    launcher_label_en = models.CharField(
        _("launcher label (English)"), max_length=40, blank=True
    )
    launcher_label_tr = models.CharField(
        _("launcher label (Turkish)"), max_length=40, blank=True
    )
    greeting_en = models.CharField(_("greeting (English)"), max_length=300, blank=True)
    greeting_tr = models.CharField(_("greeting (Turkish)"), max_length=300, blank=True)
    team_name_en = models.CharField(_("team name (English)"), max_length=60, blank=True)
    team_name_tr = models.CharField(_("team name (Turkish)"), max_length=60, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("appearance")
        verbose_name_plural = _("appearance")
        constraints = [
            models.CheckConstraint(
                condition=Q(id=APPEARANCE_ID), name="appearance_single_row"
            ),
        ]

    def __str__(self) -> str:
        return str(_("Appearance of the chat"))


def team_avatar_path(instance: TeamAvatar | None, filename: str) -> str:
    """A random name (avatars are re-encoded as WebP: chat.avatars)."""
    return f"avatars/{uuid.uuid4().hex}.webp"


class TeamAvatar(models.Model):
    """A picture of the team shown beside its name (at most MAX_TEAM_AVATARS, in the
    order they were added); stored square and small (chat.avatars)."""

    file = models.FileField(_("file"), upload_to=team_avatar_path, max_length=200)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("team avatar")
        verbose_name_plural = _("team avatars")
        ordering = ["id"]

    def __str__(self) -> str:
        return str(_("Team avatar #%(id)s") % {"id": self.pk})


BUSINESS_HOURS_ID = 1  # the one row of BusinessHours


class BusinessHours(models.Model):
    """When the team answers (one row, id BUSINESS_HOURS_ID, written by
    chat.services): opening hours per weekday and holidays in ``time_zone``
    (chat.hours reads them), and the automatic reply to a conversation that starts
    outside them or with nobody online. ``weekly`` maps "0" (Monday) to "6" to
    lists of ["HH:MM", "HH:MM"]; ``holidays`` is a list of ["YYYY-MM-DD", label]."""

    enabled = models.BooleanField(_("use opening hours"), default=False)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    weekly = models.JSONField(_("opening hours"), default=dict, blank=True)
    holidays = models.JSONField(_("holidays"), default=list, blank=True)
    auto_reply_enabled = models.BooleanField(
        _("send an automatic reply"), default=False
    )
    auto_reply_en = models.TextField(
        _("automatic reply (English)"), max_length=500, blank=True
    )
    auto_reply_tr = models.TextField(
        _("automatic reply (Turkish)"), max_length=500, blank=True
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(id=BUSINESS_HOURS_ID), name="business_hours_single_row"
            ),
        ]

    def __str__(self) -> str:
        return str(_("Business hours"))


class OperatorStatus(models.Model):
    """Whether an operator said they are away (the inbox's switch, Telegram's
    /away): an away operator does not count as someone there for visitors.
    Written by chat.services.set_operator_away only."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="chat_status",
        verbose_name=_("operator"),
    )
    away = models.BooleanField(_("away"), default=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("operator status")
        verbose_name_plural = _("operator statuses")

    def __str__(self) -> str:
        return str(self.user)


# Continue on another device (kept in their own module).
