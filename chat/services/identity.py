"""Who the host site says a widget visitor is (the widget's ``identify``).

A site that knows its user sends their id with ``user_hash``, an HMAC-SHA256 of the
id under ``SOHBET_WIDGET_IDENTITY_SECRET`` that only its server and Sohbet know. A
verified id is one visitor wherever it signs in: the session is pointed at that
visitor (an anonymous conversation of this browser goes with it), its key is rotated
(a token planted earlier opens nothing) and its sockets reconnect. A name or email
without a hash is kept as the visitor's own word, shown unverified, and never
overrides a verified identity. A wrong hash changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from chat.exceptions import ChatError, ErrorCode
from chat.models import Thread, Visitor
from chat.services.visitors import (
    VISITOR_SESSION_KEY,
    attach_session,
    written_visitor,
)

# What this session was last told, so that a page load repeating it costs nothing.
IDENTITY_SESSION_KEY = "sohbet_identity"
MAX_USER_ID = 200
MAX_NAME = 80
MAX_EMAIL = 254


@dataclass(frozen=True, slots=True)
class Identified:
    verified: bool  # the session's visitor is a verified user of the site
    rotated: bool  # the session has a new key (the client takes the new token)


def user_hash(user_id: str) -> str | None:
    """The hash a site's server computes for ``user_id`` (None: no secret set)."""
    secret = settings.SOHBET_WIDGET_IDENTITY_SECRET
    if not secret:
        return None
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def identify_visitor(
    session: SessionBase,
    *,
    user_id: str = "",
    email: str = "",
    name: str = "",
    hash: str = "",
) -> Identified:
    """Apply what the host site says of the session's visitor (module docstring).
    Raises ChatError, changing nothing, on bad values or a hash that does not match."""
    user_id, email, name = user_id.strip(), email.strip(), name.strip()
    _check(user_id, email, name)
    if not hash:
        return _claimed(session, email=email, name=name)
    expected = user_hash(user_id)
    if expected is None:
        raise ChatError(
            ErrorCode.FORBIDDEN,
            _("Identity verification is not set up on this chat."),
        )
    if not user_id or not hmac.compare_digest(expected, hash.strip().lower()):
        raise ChatError(ErrorCode.FORBIDDEN, _("The identity could not be verified."))
    if session.get(IDENTITY_SESSION_KEY) == ["verified", user_id, email, name]:
        return Identified(verified=True, rotated=False)
    try:
        rotated = _verified(session, user_id=user_id, email=email, name=name)
    except IntegrityError:  # another device bound the same user at the same moment
        rotated = _verified(session, user_id=user_id, email=email, name=name)
    session[IDENTITY_SESSION_KEY] = ["verified", user_id, email, name]
    return Identified(verified=True, rotated=rotated)


def _check(user_id: str, email: str, name: str) -> None:
    if len(user_id) > MAX_USER_ID:
        raise ChatError(ErrorCode.INVALID, _("The user id is too long."))
    if len(name) > MAX_NAME:
        raise ChatError(ErrorCode.INVALID, _("The name is too long."))
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ChatError(
                ErrorCode.INVALID, _("The email address is not valid.")
            ) from None
        if len(email) > MAX_EMAIL:
            raise ChatError(ErrorCode.INVALID, _("The email address is too long."))


def _claimed(session: SessionBase, *, email: str, name: str) -> Identified:
    """A name or email the site passes without a hash: the visitor's own word."""
    claim = ["claimed", email, name]
    if not (email or name) or session.get(IDENTITY_SESSION_KEY) == claim:
        return Identified(verified=False, rotated=False)
    with transaction.atomic():
        visitor = written_visitor(session)
        if visitor.identity_verified:
            return Identified(verified=True, rotated=False)
        if email:
            visitor.email, visitor.email_source = email, "site"
        visitor.name = name or visitor.name
        visitor.save(update_fields=["email", "email_source", "name"])
    session[IDENTITY_SESSION_KEY] = claim
    return Identified(verified=False, rotated=False)


@transaction.atomic
def _verified(session: SessionBase, *, user_id: str, email: str, name: str) -> bool:
    """Bind the session to the user's visitor; whether its key was rotated."""
    user = Visitor.objects.select_for_update().filter(external_id=user_id).first()
    if user is not None and user.pk == session.get(VISITOR_SESSION_KEY):
        if email:
            user.email, user.email_source = email, "site"
        user.name = name or user.name
        user.save(update_fields=["email", "email_source", "name"])
        return False
    if user is None:
        user = written_visitor(session)
        if user.external_id:  # another user of the site, on this browser: a new one
            user = Visitor.objects.create(
                locale=user.locale, user_agent=user.user_agent
            )
            Thread.objects.create(visitor=user)
        user.external_id = user_id
        user.identity_verified = True
    elif user.pk != session.get(VISITOR_SESSION_KEY):
        _bring_anonymous_threads(session, user)
    if email:
        user.email, user.email_source = email, "site"
    user.name = name or user.name
    user.save(
        update_fields=[
            "external_id",
            "identity_verified",
            "email",
            "email_source",
            "name",
        ]
    )
    attach_session(session, user.pk)
    return True


def _bring_anonymous_threads(session: SessionBase, user: Visitor) -> None:
    """What this browser wrote before its user signed in goes with the user."""
    current = session.get(VISITOR_SESSION_KEY)
    if current is None:
        return
    anonymous = Visitor.objects.filter(pk=current, external_id__isnull=True)
    if anonymous.exists():  # its conversations that have a message
        Thread.objects.filter(visitor_id=current, last_message__isnull=False).update(
            visitor=user
        )
