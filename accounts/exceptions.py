"""Refusals raised by accounts.services, each carrying a translated message.

``str(error)`` is the message in the active language, so an interface (a view, the
bot's ``/start`` handler) can show it as it is.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class AccountError(Exception):
    """Base class: a refusal the user can be told about."""

    default_message: str | Promise = _("This request could not be completed.")

    def __init__(self, message: str | Promise | None = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(self.message)

    def __str__(self) -> str:
        return str(self.message)


class LinkTokenInvalid(AccountError):
    default_message = _(
        "This link is not valid. Ask for a new one on the Telegram page of the admin."
    )


class LinkTokenUsed(LinkTokenInvalid):
    default_message = _(
        "This link has already been used. Ask for a new one on the Telegram page "
        "of the admin."
    )


class LinkTokenExpired(LinkTokenInvalid):
    default_message = _(
        "This link has expired. Ask for a new one on the Telegram page of the admin."
    )


class TelegramAccountTaken(AccountError):
    default_message = _(
        "This Telegram account is already linked to another operator. Unlink it "
        "there first."
    )


class SecondFactorNotAvailable(AccountError):
    default_message = _("This account has no linked Telegram account.")


class LoginCodeCooldown(AccountError):
    """A code was sent moments ago; ``seconds_left`` until a new one may be sent."""

    def __init__(self, seconds_left: int) -> None:
        self.seconds_left = seconds_left
        super().__init__(
            _(
                "A code was sent moments ago. You can ask for a new one in "
                "%(seconds)s seconds."
            )
            % {"seconds": seconds_left}
        )


class LoginCodesExhausted(AccountError):
    """The account was sent as many codes as an hour or a day allows."""

    default_message = _(
        "This account has been sent as many sign-in codes as allowed for now. Use "
        "a recovery code, or try again later."
    )


class LoginCodesPaused(AccountError):
    """Too many wrong codes were entered for the account: codes are refused for a
    while, unchecked."""

    default_message = _(
        "Too many wrong codes were entered for this account, so codes are paused "
        "for a while. Use a recovery code, or try again later."
    )


class TelegramUnavailable(AccountError):
    """The Bot API could not be reached or refused the call.

    ``detail`` is for logs (method and Telegram's answer; never the token or the
    text sent); ``str()`` is the plain message for people.
    """

    def __init__(self, detail: str, *, retry_after: int | None = None) -> None:
        self.detail = detail
        self.retry_after = retry_after
        super().__init__(
            _(
                "We could not reach Telegram to send your code. Try again in a "
                "minute, or use a recovery code."
            )
        )
