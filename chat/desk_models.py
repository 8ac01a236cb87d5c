"""What operators sort conversations with: labels (a name and a colour of
LABEL_COLOURS, on any number of conversations) and the automatic assignment's
switch (one row). Imported by chat.models: the names live there too."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_LABEL_NAME = 40
MAX_LABELS = 100  # in all: the catalogue goes to every inbox in one frame
MAX_LABELS_PER_THREAD = 10
AUTO_ASSIGNMENT_ID = 1  # the one row of AutoAssignment


class LabelColour(models.TextChoices):
    """Dark enough for white text (WCAG AA, 4.5:1 and more) and told apart by
    their names too (a colour is never the only sign)."""

    GREY = "#4b5563", _("Grey")
    RED = "#b91c1c", _("Red")
    ORANGE = "#c2410c", _("Orange")
    BROWN = "#92400e", _("Brown")
    GREEN = "#15803d", _("Green")
    TEAL = "#0f766e", _("Teal")
    BLUE = "#1d4ed8", _("Blue")
    INDIGO = "#4338ca", _("Indigo")
    PURPLE = "#7e22ce", _("Purple")
    PINK = "#be185d", _("Pink")


class Label(models.Model):
    """A label operators put on conversations (written by chat.services.labels)."""

    name = models.CharField(_("name"), max_length=MAX_LABEL_NAME)
    colour = models.CharField(
        _("colour"),
        max_length=7,
        choices=LabelColour.choices,
        default=LabelColour.GREY,
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("label")
        verbose_name_plural = _("labels")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="label_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class ThreadLabel(models.Model):
    """A label on a conversation: who put it there and when."""

    thread = models.ForeignKey(
        "chat.Thread",
        on_delete=models.CASCADE,
        related_name="thread_labels",
        verbose_name=_("conversation"),
    )
    label = models.ForeignKey(
        Label,
        on_delete=models.CASCADE,
        related_name="thread_labels",
        verbose_name=_("label"),
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    added_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("label on a conversation")
        verbose_name_plural = _("labels on conversations")
        constraints = [
            models.UniqueConstraint(
                fields=["thread", "label"], name="thread_label_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.thread_id}:{self.label_id}"


class AutoAssignment(models.Model):
    """Whether new conversations are given to an operator by turns (one row, id
    AUTO_ASSIGNMENT_ID; chat.services.assignment), and whose turn was last."""

    enabled = models.BooleanField(
        _("assign new conversations automatically"), default=False
    )
    last_operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last assigned to"),
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("automatic assignment")
        verbose_name_plural = _("automatic assignment")
        constraints = [
            models.CheckConstraint(
                condition=Q(id=AUTO_ASSIGNMENT_ID), name="auto_assignment_single_row"
            ),
        ]

    def __str__(self) -> str:
        return str(_("Automatic assignment"))
