"""Continue on another device: a one-time code that attaches another browser to the
visitor's conversation, and signing a browser out of it.

A code is 8 characters of ``ALPHABET`` (31 symbols, no look-alikes: 39.6 bits),
stored as a keyed hash, valid ``CODE_LIFETIME``, used once. Codes typed in are
written down before they are looked up and counted per client network and over the
whole site (the limits below, and why guessing is hopeless: docs/security.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string, salted_hmac
from django.utils.translation import gettext_lazy as _

from chat import events
from chat.exceptions import ChatError, ErrorCode
from chat.models import DeviceCode, DeviceCodeAttempt, Visitor
from chat.services.visitors import (
    THREAD_SESSION_KEY,
    VISITOR_SESSION_KEY,
    attach_session,
    current_thread_id,
    written_visitor,
)
from realtime import send_on_commit

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
CODE_LENGTH = 8
CODE_LIFETIME = dt.timedelta(minutes=10)
# Codes shown: per visitor and per client network, per hour.
ISSUED_PER_VISITOR = 5
ISSUED_PER_CLIENT = 20
# Codes typed in that attached nothing: per client network per hour and per day,
# and over the whole site per hour.
FAILED_PER_CLIENT_HOUR = 10
FAILED_PER_CLIENT_DAY = 30
FAILED_PER_SITE_HOUR = 1000
KEPT = dt.timedelta(days=1)  # rows kept past expiry (the counts above read them)


@dataclass(frozen=True, slots=True)
class IssuedCode:
    code: str  # as typed: CODE_LENGTH characters of ALPHABET
    expires_at: dt.datetime


def display_code(code: str) -> str:
    """The code as shown: two groups of four."""
    return f"{code[:4]}-{code[4:]}"


def normalize_code(text: str) -> str | None:
    """What a person typed as a code (any case, spaces, dashes), or None when it
    cannot be one."""
    code = "".join(text.split()).replace("-", "").upper()
    if len(code) != CODE_LENGTH or any(char not in ALPHABET for char in code):
        return None
    return code


def client_key_of(network: str) -> str:
    """A client network (realtime.clientip.rate_limit_key) as stored: a keyed hash."""
    return salted_hmac("chat.services.devices.client", network).hexdigest()[:32]


def _code_hash(code: str) -> str:
    return salted_hmac(
        "chat.services.devices.code", code, algorithm="sha256"
    ).hexdigest()


@transaction.atomic
def issue_device_code(session: SessionBase, *, client_key: str) -> IssuedCode:
    """A new code for the session's visitor (their rows written first if they were
    only drawn); their earlier codes stop working. Raises ChatError
    ``rate_limited`` past the limits, changing nothing."""
    visitor = written_visitor(session)
    now = timezone.now()
    hour_ago = now - dt.timedelta(hours=1)
    recent = DeviceCode.objects.filter(created_at__gte=hour_ago)
    if (
        recent.filter(visitor=visitor).count() >= ISSUED_PER_VISITOR
        or recent.filter(client_key=client_key).count() >= ISSUED_PER_CLIENT
    ):
        raise ChatError(
            ErrorCode.RATE_LIMITED,
            _("Too many codes were asked for. Please try again in an hour."),
        )
    DeviceCode.objects.filter(
        visitor=visitor, used_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)
    while True:
        code = get_random_string(CODE_LENGTH, ALPHABET)
        try:
            with transaction.atomic():
                DeviceCode.objects.create(
                    visitor=visitor,
                    code_hash=_code_hash(code),
                    client_key=client_key,
                    created_at=now,
                    expires_at=now + CODE_LIFETIME,
                )
        except IntegrityError:  # the same code as a kept one: draw again
            continue
        return IssuedCode(code=code, expires_at=now + CODE_LIFETIME)


def redeem_device_code(session: SessionBase, *, code: str, client_key: str) -> None:
    """Attach the session to the visitor whose code this is
    (``chat.services.attach_session``: the key rotates, the caller hands the browser
    the new cookie or token); the visitor's sockets are told after commit
    (``device.joined``). The code is used up. Raises ChatError for a
    malformed, unknown, expired or used code, or past the guessing limits (checked
    before the code is looked up), changing nothing but the count of attempts.
    Called outside a transaction: the attempt is committed before it is counted,
    so that concurrent guesses see each other."""
    normalized = normalize_code(code)
    if normalized is None:
        raise ChatError(
            ErrorCode.INVALID,
            _("A code has 8 letters and digits, like ABCD-2345."),
        )
    attempt = DeviceCodeAttempt.objects.create(client_key=client_key)
    _check_guessing_limits(client_key)
    with transaction.atomic():
        found = (
            DeviceCode.objects.select_for_update()
            .filter(code_hash=_code_hash(normalized))
            .first()
        )
        if found is None:
            raise ChatError(
                ErrorCode.NOT_FOUND,
                _("This code is not right. Check it and try again."),
            )
        now = timezone.now()
        if found.used_at is not None:
            raise ChatError(
                ErrorCode.FORBIDDEN,
                _("This code was already used. Ask your other device for a new one."),
            )
        if found.expires_at <= now:
            raise ChatError(
                ErrorCode.FORBIDDEN,
                _("This code has expired. Ask your other device for a new one."),
            )
        found.used_at = now
        found.save(update_fields=["used_at"])
        attempt.succeeded = True
        attempt.save(update_fields=["succeeded"])
        if session.get(VISITOR_SESSION_KEY) != found.visitor_id:  # not its own
            attach_session(session, found.visitor_id)
            thread_id = current_thread_id(session)
            if thread_id is not None:
                send_on_commit(events.device_joined_event(thread=thread_id))


def _check_guessing_limits(client_key: str) -> None:
    now = timezone.now()
    failed = DeviceCodeAttempt.objects.filter(succeeded=False)
    mine = failed.filter(client_key=client_key)
    hour_ago = now - dt.timedelta(hours=1)
    if (
        mine.filter(created_at__gte=hour_ago).count() > FAILED_PER_CLIENT_HOUR
        or mine.filter(created_at__gte=now - dt.timedelta(days=1)).count()
        > FAILED_PER_CLIENT_DAY
        or failed.filter(created_at__gte=hour_ago).count() > FAILED_PER_SITE_HOUR
    ):
        raise ChatError(
            ErrorCode.RATE_LIMITED,
            _("Too many codes were tried. Please try again later."),
        )


@transaction.atomic
def sign_out_device(session: SessionBase) -> None:
    """The session forgets its visitor (their other devices keep the conversation);
    the sockets opened with it close after commit and reconnect into a new, empty
    conversation."""
    visitor_id = session.get(VISITOR_SESSION_KEY)
    thread_id = current_thread_id(session)
    key = session.session_key or ""
    session.pop(VISITOR_SESSION_KEY, None)
    session.pop(THREAD_SESSION_KEY, None)
    if key:
        session.save()  # before its sockets reconnect (they read it at once)
    if visitor_id is not None and key:
        # No session looks its visitor up by this key again (start_visitor would).
        Visitor.objects.filter(pk=visitor_id, session_key=key).update(session_key="")
    if thread_id is not None and key:
        send_on_commit(
            events.session_event(
                events.thread_group(thread_id),
                events.SESSION_ROTATED,
                session=events.session_group(key),
            )
        )


def delete_old_device_codes(*, dry_run: bool = False) -> int:
    """Delete device codes expired, and codes typed in, more than a day ago
    (``manage.py cleanup``); how many (with ``dry_run``: would be, deleting none)."""
    before = timezone.now() - KEPT
    codes = DeviceCode.objects.filter(expires_at__lt=before)
    attempts = DeviceCodeAttempt.objects.filter(created_at__lt=before)
    if dry_run:
        return codes.count() + attempts.count()
    return codes.delete()[0] + attempts.delete()[0]
