"""Operators' frames about private notes (docs/protocol.md, "Private notes"):
parsed into dataclasses, or refused with a ChatError. Wired in by chat.frames."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from chat.exceptions import ChatError, ErrorCode

NOTE_TYPES = frozenset({"note.add", "notes", "thread.transfer"})


@dataclass(frozen=True, slots=True)
class NoteAdd:
    thread: int
    client_id: uuid.UUID
    body: str


@dataclass(frozen=True, slots=True)
class NoteList:
    thread: int


@dataclass(frozen=True, slots=True)
class ThreadTransfer:
    thread: int
    operator: int
    note: str


NoteFrame = NoteAdd | NoteList | ThreadTransfer


def _invalid(detail: str) -> ChatError:
    return ChatError(ErrorCode.INVALID, detail)


def _id(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 2**62:
        raise _invalid(_("“%(field)s” must be a whole number.") % {"field": key})
    return value


def _text(data: dict[str, Any], key: str, *, required: bool) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise _invalid(_("“%(field)s” must be text.") % {"field": key})
    if len(value) > settings.SOHBET_MAX_BODY:
        raise ChatError(
            ErrorCode.TOO_LONG,
            _("A note can be at most %(max)s characters.")
            % {"max": settings.SOHBET_MAX_BODY},
        )
    if "\x00" in value:
        raise _invalid(_("A note cannot contain NUL characters."))
    if required and not value.strip():
        raise _invalid(_("A note cannot be empty."))
    return value


def parse_note_frame(kind: str, data: dict[str, Any]) -> NoteFrame:
    """One of NOTE_TYPES, already known to be an operator's frame."""
    if kind == "notes":
        return NoteList(thread=_id(data, "thread"))
    if kind == "thread.transfer":
        return ThreadTransfer(
            thread=_id(data, "thread"),
            operator=_id(data, "operator"),
            note=_text(data, "note", required=False),
        )
    raw_id = data.get("client_id")
    try:
        client_id = uuid.UUID(raw_id) if isinstance(raw_id, str) else None
    except ValueError:
        client_id = None
    if client_id is None:
        raise _invalid(_("“client_id” must be a UUID."))
    return NoteAdd(
        thread=_id(data, "thread"),
        client_id=client_id,
        body=_text(data, "body", required=True),
    )
