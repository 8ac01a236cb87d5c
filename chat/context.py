"""What a visitor's page tells of them (the ``visitor.context`` frame): the page they
are on, where they came from, their time zone and language, the host's custom
attributes; and the country as the proxy sends it. Parsed and bounded here, before
any work; stored on ``Visitor`` (chat.services.context)."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from chat.exceptions import ChatError, ErrorCode
from realtime.proxies import is_trusted_proxy

MAX_URL = 500
MAX_TITLE = 200
MAX_TIMEZONE = 64
MAX_LANGUAGE = 35
MAX_ATTRIBUTES = 20
MAX_KEY = 40
MAX_VALUE = 200
LARGEST_NUMBER = 2**53  # what a JSON number carries exactly both ways
# Back after this long away: a new visit.
VISIT_GAP = dt.timedelta(minutes=30)

# The frame's fields, and the Visitor field each is stored in.
COLUMNS = {
    "url": "last_page",
    "title": "page_title",
    "referrer": "referrer",
    "timezone": "time_zone",
    "language": "language",
}
_KEY = re.compile(r"[A-Za-z0-9_.\-]{1,40}")  # MAX_KEY
_LANGUAGE = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")
_COUNTRY = re.compile(r"[A-Z]{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Value = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class VisitorContext:
    """A ``visitor.context`` frame: the fields it carried (by frame name), and the
    attributes to merge (None removes a key)."""

    fields: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, Value] = field(default_factory=dict)


class ContextError(ChatError):
    """A refused ``visitor.context``: its ``error`` frame names the frame
    (``"frame": "visitor.context"``), so that a page tells its developer, not the
    visitor."""

    frame = "visitor.context"


def _invalid(detail: str) -> ChatError:
    return ContextError(ErrorCode.INVALID, detail)


def _too_long(detail: str) -> ChatError:
    return ContextError(ErrorCode.TOO_LONG, detail)


def parse_context(data: Mapping[str, Any]) -> VisitorContext:
    """A decoded ``visitor.context`` frame, every field optional and bounded; a
    ChatError for anything else (nothing is changed then)."""
    fields: dict[str, str] = {}
    for name in COLUMNS:
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise _invalid(_("“%(field)s” must be text.") % {"field": name})
        fields[name] = _clean(name, value.strip())
    url = fields.get("url")
    referrer = fields.get("referrer")
    if url and referrer and _host(referrer) == _host(url):
        del fields["referrer"]  # a page of the same site: not where they came from
    attributes = data.get("attributes")
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, dict):
        raise _invalid(_("“attributes” must be an object."))
    if len(attributes) > MAX_ATTRIBUTES:
        raise _too_long(
            _("At most %(max)s custom attributes.") % {"max": MAX_ATTRIBUTES}
        )
    return VisitorContext(
        fields=fields,
        attributes={
            _clean_key(key): _clean_value(key, value)
            for key, value in attributes.items()
        },
    )


def _clean(name: str, value: str) -> str:
    if name in ("url", "referrer"):
        if len(value) > MAX_URL:
            raise _too_long(
                _("“%(field)s” can be at most %(max)s characters.")
                % {"field": name, "max": MAX_URL}
            )
        if value and not _is_web_url(value):
            raise _invalid(
                _("“%(field)s” must be an http or https address.") % {"field": name}
            )
    elif name == "title":
        if len(value) > MAX_TITLE:
            raise _too_long(
                _("“%(field)s” can be at most %(max)s characters.")
                % {"field": name, "max": MAX_TITLE}
            )
        value = " ".join(value.split())
    elif name == "timezone":
        if value and (len(value) > MAX_TIMEZONE or value not in _time_zones()):
            raise _invalid(_("“timezone” must be an IANA time zone name."))
    elif value and (len(value) > MAX_LANGUAGE or not _LANGUAGE.fullmatch(value)):
        raise _invalid(_("“language” must be a language tag such as en-GB."))
    if _CONTROL.search(value):
        raise _invalid(
            _("“%(field)s” cannot contain control characters.") % {"field": name}
        )
    return value


def _is_web_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def _clean_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise _invalid(
            _("An attribute name is 1 to %(max)s letters, digits, “_”, “.” or “-”.")
            % {"max": MAX_KEY}
        )
    return key


def _clean_value(key: str, value: Any) -> Value:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise _invalid(_("“%(key)s” must be a finite number.") % {"key": key})
        if abs(value) > LARGEST_NUMBER:
            raise _invalid(_("“%(key)s” is out of range.") % {"key": key})
        return value
    if isinstance(value, str):
        if len(value) > MAX_VALUE:
            raise _too_long(
                _("“%(key)s” can be at most %(max)s characters.")
                % {"key": key, "max": MAX_VALUE}
            )
        if _CONTROL.search(value):
            raise _invalid(
                _("“%(key)s” cannot contain control characters.") % {"key": key}
            )
        return value
    raise _invalid(
        _("“%(key)s” must be text, a number, true, false or null.") % {"key": key}
    )


def merge_attributes(
    current: Mapping[str, Value], patch: Mapping[str, Value], *, strict: bool = True
) -> dict[str, Value]:
    """``current`` with ``patch`` applied (None removes a key). More than
    MAX_ATTRIBUTES: a ChatError when ``strict``, else the new keys that do not fit
    are left out."""
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif key in merged or len(merged) < MAX_ATTRIBUTES:
            merged[key] = value
        elif strict:
            raise _too_long(
                _("At most %(max)s custom attributes.") % {"max": MAX_ATTRIBUTES}
            )
    return merged


def load_attributes(text: str) -> dict[str, Value]:
    """Stored attributes (``Visitor.attributes``) as a dict."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def dump_attributes(attributes: Mapping[str, Value]) -> str:
    return (
        json.dumps(attributes, ensure_ascii=False, separators=(",", ":"))
        if (attributes)
        else ""
    )


def country_of(scope: Mapping[str, Any]) -> str:
    """The visitor's country (ISO 3166 alpha-2) from ``SOHBET_COUNTRY_HEADER``, as
    the trusted proxy sends it (every peer is the proxy when TRUSTED_PROXIES is
    empty: realtime.proxies); "" when absent or not a country ("XX", "T1")."""
    header = settings.SOHBET_COUNTRY_HEADER
    if not header:
        return ""
    if settings.TRUSTED_PROXIES and not is_trusted_proxy(dict(scope)):
        return ""
    wanted = header.lower().encode("latin1")
    for name, value in scope.get("headers", ()):
        if name == wanted:
            code = value.decode("latin1").strip().upper()
            return code if _COUNTRY.fullmatch(code) and code != "XX" else ""
    return ""


def local_time(time_zone: str, now: dt.datetime) -> dt.datetime | None:
    """``now`` in the visitor's time zone; None when it is not one."""
    if not time_zone:
        return None
    try:
        return now.astimezone(zoneinfo.ZoneInfo(time_zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
