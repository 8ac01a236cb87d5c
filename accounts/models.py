"""Operators and their second factor (a linked Telegram account).

Rows other than ``User`` are written by ``accounts.services`` only. Secrets (link
tokens, login codes, recovery codes) are stored as hashes: see ``accounts.codes``.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """An operator (staff) or site owner. Visitors are not users: see chat.Visitor."""

    # Raised to end every session of the user at once (sign out everywhere, a
    # second-factor reset): it is part of the hash each session keeps, as the
    # password is (Django's session verification).
    session_generation = models.PositiveIntegerField(
        _("session generation"), default=0, editable=False
    )

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.get_username()

    def get_session_auth_hash(self) -> str:
        if not self.session_generation:  # sessions made before the field existed
            return super().get_session_auth_hash()
        return self._generation_hash(secret=None)

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        if not self.session_generation:
            yield from super().get_session_auth_fallback_hash()
            return
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._generation_hash(secret=secret)

    def _generation_hash(self, *, secret: str | bytes | None) -> str:
        return salted_hmac(
            "accounts.User.get_session_auth_hash",
            f"{self.session_generation}:{self.password}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class TelegramLink(models.Model):
    """The Telegram account of an operator: the bot sends login codes there, and the
    bridge accepts that Telegram user's messages as the operator's."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="telegram_link",
        verbose_name=_("user"),
    )
    telegram_user_id = models.BigIntegerField(_("Telegram user id"), unique=True)
    telegram_username = models.CharField(
        _("Telegram username"), max_length=64, blank=True
    )
    linked_at = models.DateTimeField(_("linked"), default=timezone.now)
    recovery_codes_shown = models.BooleanField(_("recovery codes shown"), default=False)
    # When the operator was last told in Telegram about wrong sign-in codes.
    failure_alert_at = models.DateTimeField(
        _("wrong codes reported"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("Telegram link")
        verbose_name_plural = _("Telegram links")
        constraints = [
            models.CheckConstraint(
                condition=Q(telegram_user_id__gt=0),
                name="accounts_telegramlink_user_id_positive",
            ),
        ]

    def __str__(self) -> str:
        if self.telegram_username:
            return f"@{self.telegram_username}"
        return str(self.telegram_user_id)


class LinkToken(models.Model):
    """A one-time token of a ``t.me/<bot>?start=<token>`` link (only its SHA-256)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="telegram_link_tokens",
        verbose_name=_("user"),
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("Telegram link token")
        verbose_name_plural = _("Telegram link tokens")
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")),
                name="accounts_linktoken_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.created_at:%Y-%m-%d %H:%M}"


class LoginCode(models.Model):
    """A six-digit sign-in code sent through Telegram (only its keyed hash), for one
    sign-in attempt (one browser's, named in its session).

    Usable by that attempt while it is the attempt's latest sent code, unused,
    unexpired and has attempts left. Rows stay a day past expiry: the hourly and
    daily caps on codes sent and wrong codes count them.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="login_codes",
        verbose_name=_("user"),
    )
    code_hash = models.CharField(_("code hash"), max_length=128)
    attempt = models.CharField(_("sign-in attempt"), max_length=64)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("login code")
        verbose_name_plural = _("login codes")
        indexes = [
            models.Index(
                fields=["user", "-created_at"], name="accounts_logincode_latest"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.created_at:%Y-%m-%d %H:%M:%S}"


class RecoveryCode(models.Model):
    """A single-use code that replaces the Telegram code at sign-in (only its hash)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="recovery_codes",
        verbose_name=_("user"),
    )
    code_hash = models.CharField(_("code hash"), max_length=128)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "code_hash"], name="accounts_recoverycode_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.created_at:%Y-%m-%d %H:%M}"
