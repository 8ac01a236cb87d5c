"""Structured logs: which request or socket a line belongs to, and nothing secret.

``RequestIdMiddleware`` gives every HTTP request an id (a plain incoming
``X-Request-ID`` or ``X-Railway-Request-Id``, else a new one; returned in
``X-Request-ID``); the WebSocket middleware gives every connection one.
``ContextFilter`` puts them on each record; ``JsonFormatter`` writes a JSON object per
line in the shape Railway parses (production), ``TextFormatter`` a readable line.
Both pass the text through ``redact``. Log calls pass ids and counts, never message
bodies, codes or tokens; ``redact`` catches what libraries put in exception texts.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# Trusted in this order; only their format is checked (an id is not a secret, and a
# client choosing its own only labels its own lines).
INCOMING_REQUEST_ID_HEADERS = (REQUEST_ID_HEADER, "X-Railway-Request-Id")
# Letters, digits and hyphens: a UUID, nginx's $request_id, most tracing ids. Anything
# else (too long, spaces, quotes, newlines) is replaced, so logs stay parseable.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9-]{8,64}")

request_id_var: ContextVar[str | None] = ContextVar("sohbet_request_id", default=None)
connection_id_var: ContextVar[str | None] = ContextVar(
    "sohbet_connection_id", default=None
)

# A Telegram bot token (digits, colon, 35 URL-safe characters), also inside a Bot API
# URL path (".../bot123:AA.../getMe"); the password of a URL (postgres://u:pw@host).
_BOT_TOKEN = re.compile(r"(?<![0-9])[0-9]{5,12}:[A-Za-z0-9_-]{30,}")
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` with bot tokens and URL passwords replaced by ``[redacted]``."""
    text = _BOT_TOKEN.sub(REDACTED, text)
    return _URL_PASSWORD.sub(rf"\1{REDACTED}@", text)


def new_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Binds a request id to the request's log lines and returns it as a header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = _incoming_request_id(request) or new_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        # Kept past the middleware chain: Django logs a 4xx/5xx response after it
        # returns. Forgotten when the response is closed (below).
        request_id_var.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


@receiver(request_finished)
def _forget_request_id(sender: Any, **kwargs: Any) -> None:
    request_id_var.set(None)


def _incoming_request_id(request: HttpRequest) -> str | None:
    for header in INCOMING_REQUEST_ID_HEADERS:
        value = request.headers.get(header)
        if value:
            return value if REQUEST_ID_PATTERN.fullmatch(value) else None
    return None


class ContextFilter(logging.Filter):
    """Adds ``request_id`` and ``connection_id`` (None when unknown) to records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "connection_id"):
            record.connection_id = connection_id_var.get()
        return True


def _context(record: logging.LogRecord) -> dict[str, str]:
    found = {}
    for name in ("request_id", "connection_id"):
        value = getattr(record, name, None)
        if value:
            found[name] = str(value)
    return found


LEVELS = {"DEBUG": "debug", "INFO": "info", "WARNING": "warn", "ERROR": "error"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level (debug, info, warn or
    error; critical counts as error), logger, message, the request or connection id
    when known, and the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": LEVELS.get(record.levelname, "error"),
            "logger": record.name,
            "message": redact(record.getMessage()),
            **_context(record),
        }
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger [request=… connection=…] message``, for people."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(ids)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - stdlib
        ids = " ".join(
            f"{name.removesuffix('_id')}={value}"
            for name, value in _context(record).items()
        )
        record.ids = f" [{ids}]" if ids else ""
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
