"""Server frames that fit what a client accepts.

The WebSocket library refuses to send a frame over its own size limit (Daphne's
``--websocket-max-message-size`` applies both ways), and the socket is lost with it.
So every frame that carries a list (``sync``, ``history``, ``threads``, a batch of
live ``messages``) is built here within ``SOHBET_MAX_SERVER_FRAME_BYTES``: pages are
cut by size as well as by count (the caller then says ``has_more``), batches are
split. One item always fits: ``chat.checks`` refuses settings where it might not.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from realtime.errors import ErrorCode, FrameError


def encode(value: Any) -> str:
    """A frame's (or a list item's) JSON text, as sent."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def byte_size(text: str) -> int:
    """The bytes ``text`` takes on the wire (UTF-8)."""
    return len(text) if text.isascii() else len(text.encode())


def list_frame(fields: dict[str, Any], key: str, items: list[str]) -> str:
    """The text of a frame made of ``fields`` and ``key``: the encoded ``items``."""
    head = encode(fields)[:-1]
    separator = "," if len(head) > 1 else ""
    return f'{head}{separator}"{key}":[{",".join(items)}]}}'


def room(fields: dict[str, Any], key: str) -> int:
    """The bytes left for the items of a ``list_frame`` of these fields."""
    return settings.SOHBET_MAX_SERVER_FRAME_BYTES - byte_size(
        list_frame(fields, key, [])
    )


def fitting(payloads: list[Any], *, room: int, newest: bool = False) -> list[str]:
    """The encoded ``payloads`` that fit in ``room`` bytes, in order: as many as
    fit from the first on (from the last back with ``newest``), at least one."""
    chosen: list[str] = []
    used = 0
    for payload in reversed(payloads) if newest else payloads:
        item = encode(payload)
        size = byte_size(item) + (1 if chosen else 0)
        if chosen and used + size > room:
            break
        chosen.append(item)
        used += size
    if newest:
        chosen.reverse()
    return chosen


def pages(payloads: list[Any], *, room: int) -> Iterator[list[str]]:
    """All the encoded ``payloads``, in order, in pages that fit ``room`` bytes."""
    page: list[str] = []
    used = 0
    for payload in payloads:
        item = encode(payload)
        size = byte_size(item) + (1 if page else 0)
        if page and used + size > room:
            yield page
            page, used, size = [], 0, size - 1
        page.append(item)
        used += size
    if page:
        yield page


def load_frame(text: str) -> Any:
    """The JSON value of a client's text frame; FrameError(invalid) when it is not
    JSON or nests too deeply to parse (the parser's RecursionError must not end the
    socket)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise FrameError(ErrorCode.INVALID, _("A frame must be JSON.")) from None
