"""Continue on another device: the one-time codes a visitor shows, and the codes
typed in (chat.services.devices). Imported by chat.models."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DeviceCode(models.Model):
    """A one-time code that attaches another browser to ``visitor``. Only a keyed
    hash of the code is stored; rows stay a day past expiry (they count against the
    issue limits and let a late code be told "expired" or "used")."""

    visitor = models.ForeignKey(
        "chat.Visitor", on_delete=models.CASCADE, related_name="device_codes"
    )
    code_hash = models.CharField(_("code hash"), max_length=64, unique=True)
    # A keyed hash of the client's network (realtime.clientip), never the address.
    client_key = models.CharField(_("client key"), max_length=32)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("device code")
        verbose_name_plural = _("device codes")
        indexes = [
            models.Index(fields=["visitor", "created_at"], name="devicecode_visitor"),
            models.Index(fields=["client_key", "created_at"], name="devicecode_client"),
        ]

    def __str__(self) -> str:
        return str(_("Device code #%(id)s") % {"id": self.pk})


class DeviceCodeAttempt(models.Model):
    """A code typed in from a client network: written before the code is looked up,
    so that concurrent guesses all count; ``succeeded`` once it attached a browser.
    The guessing limits count the others."""

    client_key = models.CharField(_("client key"), max_length=32)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    succeeded = models.BooleanField(_("succeeded"), default=False)

    class Meta:
        verbose_name = _("device code attempt")
        verbose_name_plural = _("device code attempts")
        indexes = [
            models.Index(
                fields=["client_key", "created_at"], name="codeattempt_client"
            ),
            models.Index(fields=["created_at"], name="codeattempt_created"),
        ]

    def __str__(self) -> str:
        return str(_("Code attempt #%(id)s") % {"id": self.pk})
