"""Visitor tokens: a session key, signed, for a client that cannot keep the session
cookie (the widget's frame on a site whose browser blocks third-party cookies).

The token stands for the session as the cookie does: whoever holds it is that
visitor. It is offered on a socket as the subprotocol ``sohbet.token.<token>`` (a
browser sets no other header on a WebSocket) and on HTTP as ``X-Sohbet-Visitor``.
Its signature is checked before any look-up, so garbage costs no query; it expires
with the session's age and is renewed each time the frame loads.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core import signing

SALT = "sohbet.visitor-token"
PROTOCOL = "sohbet"  # the subprotocol a socket is accepted with when it offers it
PROTOCOL_PREFIX = "sohbet.token."
HEADER = "HTTP_X_SOHBET_VISITOR"  # request.META's name of X-Sohbet-Visitor
MAX_LENGTH = 200


def _signer() -> signing.TimestampSigner:
    # "." separates: a subprotocol is an HTTP token, where ":" is not allowed.
    return signing.TimestampSigner(salt=SALT, sep=".")


def sign(session_key: str) -> str:
    return _signer().sign(session_key)


def session_key(token: str | None) -> str | None:
    """The session key a token names, or None (absent, malformed, forged, expired)."""
    if not token or len(token) > MAX_LENGTH:
        return None
    try:
        return _signer().unsign(token, max_age=settings.SESSION_COOKIE_AGE)
    except signing.BadSignature:
        return None


def offered(subprotocols: Iterable[str]) -> str | None:
    """The token among a socket's offered subprotocols."""
    for protocol in subprotocols:
        if protocol.startswith(PROTOCOL_PREFIX):
            return protocol[len(PROTOCOL_PREFIX) :]
    return None
