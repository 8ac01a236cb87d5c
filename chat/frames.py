"""Client frames: parsed into small frozen dataclasses, or refused with a ChatError.

Identity never comes from a frame. A visitor's ``thread`` field is ignored: the
consumer knows the visitor's thread from the session.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from chat import safety_frames
from chat.canned_frames import (
    CANNED_TYPES,
    CannedAttach,
    CannedList,
    parse_canned_frame,
)
from chat.context import VisitorContext, parse_context
from chat.desk_frames import DESK_TYPES, VIEWS, parse_desk_frame
from chat.exceptions import ChatError, ErrorCode
from chat.note_frames import NOTE_TYPES, NoteFrame, parse_note_frame

MAX_NAME = 80
MAX_EMAIL = 254
MAX_SEARCH = 100


@dataclass(frozen=True, slots=True)
class SendMessage:
    client_id: uuid.UUID
    body: str
    attachment: int | None
    thread: int | None


@dataclass(frozen=True, slots=True)
class Typing:
    active: bool
    thread: int | None


@dataclass(frozen=True, slots=True)
class Read:
    up_to: int
    thread: int | None


@dataclass(frozen=True, slots=True)
class Delivered:
    up_to: int
    thread: int | None


@dataclass(frozen=True, slots=True)
class Sync:
    after: int
    thread: int | None


@dataclass(frozen=True, slots=True)
class History:
    before: int | None
    limit: int
    thread: int | None


@dataclass(frozen=True, slots=True)
class Ping:
    pass


@dataclass(frozen=True, slots=True)
class Options:
    batch_messages: bool


@dataclass(frozen=True, slots=True)
class VisitorUpdate:
    name: str
    trap: bool = False  # the pre-chat honeypot was filled (chat.safety_frames)


@dataclass(frozen=True, slots=True)
class VisitorEmail:
    email: str  # checked by chat.services.set_visitor_email
    trap: bool = False  # the pre-chat honeypot was filled (chat.safety_frames)


@dataclass(frozen=True, slots=True)
class TranscriptSend:
    pass


@dataclass(frozen=True, slots=True)
class VisitorInfo:
    thread: int


@dataclass(frozen=True, slots=True)
class ThreadAction:
    action: str  # "close" | "reopen"
    thread: int


@dataclass(frozen=True, slots=True)
class ThreadAssign:
    thread: int
    operator: int | None


@dataclass(frozen=True, slots=True)
class OperatorAway:
    away: bool


@dataclass(frozen=True, slots=True)
class ThreadList:
    status: str
    q: str
    before: dt.datetime | None
    limit: int
    view: str = ""  # one of chat.desk.VIEWS (the status when not given)
    label: int | None = None


Frame = (
    SendMessage
    | Typing
    | Read
    | Delivered
    | Sync
    | History
    | Ping
    | Options
    | VisitorUpdate
    | VisitorEmail
    | TranscriptSend
    | VisitorContext
    | VisitorInfo
    | ThreadAction
    | ThreadAssign
    | ThreadList
    | OperatorAway
    | CannedList
    | CannedAttach
    | NoteFrame
)

VISITOR_TYPES = frozenset(
    {
        "message.send",
        "typing",
        "read",
        "sync",
        "history",
        "ping",
        "options",
        "visitor.update",
        "visitor.context",
        "visitor.email",
        "transcript.send",
    }
    | safety_frames.VISITOR_TYPES
)
OPERATOR_TYPES = frozenset(
    {
        "message.send",
        "typing",
        "read",
        "delivered",
        "sync",
        "history",
        "ping",
        "options",
        "thread.close",
        "thread.reopen",
        "thread.assign",
        "threads",
        "visitor.info",
        "operator.away",
        *CANNED_TYPES,
        *DESK_TYPES,
    }
    | safety_frames.OPERATOR_TYPES
    | NOTE_TYPES
)


def _invalid(detail: str, client_id: str | None = None) -> ChatError:
    return ChatError(ErrorCode.INVALID, detail, client_id=client_id)


def _int(
    data: dict[str, Any], key: str, *, minimum: int = 0, required: bool = True
) -> int:
    value = data.get(key)
    if value is None and not required:
        return minimum
    # bool is an int in Python; a protocol integer is not a boolean.
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise _invalid(_("“%(field)s” must be a whole number.") % {"field": key})
    if value > 2**62:
        raise _invalid(_("“%(field)s” is out of range.") % {"field": key})
    return value


def _optional_int(data: dict[str, Any], key: str) -> int | None:
    if data.get(key) is None:
        return None
    return _int(data, key, minimum=1)


def _thread(data: dict[str, Any], *, operator: bool) -> int | None:
    if not operator:
        return None  # a visitor only ever reaches their own thread
    return _int(data, "thread", minimum=1)


def parse_frame(data: Any, *, operator: bool) -> Frame:
    """Parse one decoded JSON frame of a visitor (or an operator) into a dataclass."""
    if not isinstance(data, dict):
        raise _invalid(_("A frame must be a JSON object."))
    kind = data.get("type")
    allowed = OPERATOR_TYPES if operator else VISITOR_TYPES
    if not isinstance(kind, str) or kind not in allowed:
        raise _invalid(_("Unknown frame type."))

    if kind == "message.send":
        return _parse_send(data, operator=operator)
    if kind in NOTE_TYPES:
        return parse_note_frame(kind, data)
    if kind == "typing":
        active = data.get("active", True)
        if not isinstance(active, bool):
            raise _invalid(_("“active” must be true or false."))
        return Typing(active=active, thread=_thread(data, operator=operator))
    if kind == "read":
        return Read(up_to=_int(data, "up_to"), thread=_thread(data, operator=operator))
    if kind == "delivered":
        return Delivered(
            up_to=_int(data, "up_to"), thread=_thread(data, operator=operator)
        )
    if kind == "sync":
        return Sync(after=_int(data, "after"), thread=_thread(data, operator=operator))
    if kind == "history":
        limit = data.get("limit", 50)
        if (
            not isinstance(limit, int)
            or isinstance(limit, bool)
            or not 1 <= limit <= 100
        ):
            raise _invalid(_("“limit” must be between 1 and 100."))
        return History(
            before=_optional_int(data, "before"),
            limit=limit,
            thread=_thread(data, operator=operator),
        )
    if kind == "ping":
        return Ping()
    if kind == "options":
        batch = data.get("batch_messages", False)
        if not isinstance(batch, bool):
            raise _invalid(_("“batch_messages” must be true or false."))
        return Options(batch_messages=batch)
    if kind == "visitor.update":
        name = data.get("name", "")
        if not isinstance(name, str):
            raise _invalid(_("“name” must be text."))
        name = " ".join(name.split())
        if len(name) > MAX_NAME:
            raise ChatError(
                ErrorCode.TOO_LONG,
                _("A name can be at most %(max)s characters.") % {"max": MAX_NAME},
            )
        return VisitorUpdate(name=name, trap=safety_frames.is_trap_filled(data))
    if kind == "visitor.email":
        email = data.get("email", "")
        if not isinstance(email, str):
            raise _invalid(_("“email” must be text."))
        if len(email) > MAX_EMAIL:
            raise ChatError(ErrorCode.TOO_LONG, _("The email address is too long."))
        return VisitorEmail(email=email, trap=safety_frames.is_trap_filled(data))
    if kind == "transcript.send":
        return TranscriptSend()
    if kind == "visitor.context":
        return parse_context(data)
    if kind == "visitor.info":
        return VisitorInfo(thread=_int(data, "thread", minimum=1))
    if kind in ("thread.close", "thread.reopen"):
        return ThreadAction(
            action=kind.split(".")[1], thread=_int(data, "thread", minimum=1)
        )
    if kind == "thread.assign":
        return ThreadAssign(
            thread=_int(data, "thread", minimum=1),
            operator=_optional_int(data, "operator"),
        )
    if kind == "operator.away":
        away = data.get("away")
        if not isinstance(away, bool):
            raise _invalid(_("“away” must be true or false."))
        return OperatorAway(away=away)
    if kind in CANNED_TYPES:
        return parse_canned_frame(kind, data)
    if kind in DESK_TYPES:
        return parse_desk_frame(kind, data)  # type: ignore[return-value]
    if kind in safety_frames.VISITOR_TYPES | safety_frames.OPERATOR_TYPES:
        return safety_frames.parse(kind, data)  # type: ignore[return-value]
    # kind == "threads"
    return _parse_thread_list(data)


def _parse_send(data: dict[str, Any], *, operator: bool) -> SendMessage:
    raw_id = data.get("client_id")
    if not isinstance(raw_id, str):
        raise _invalid(_("“client_id” must be a UUID."))
    client_id_text = raw_id[:64]
    try:
        client_id = uuid.UUID(raw_id)
    except ValueError:
        raise _invalid(_("“client_id” must be a UUID."), client_id_text) from None
    body = data.get("body", "")
    if not isinstance(body, str):
        raise _invalid(_("“body” must be text."), raw_id)
    attachment = data.get("attachment")
    if attachment is not None and (
        not isinstance(attachment, int)
        or isinstance(attachment, bool)
        or attachment < 1
    ):
        raise _invalid(_("“attachment” must be the id of an upload."), raw_id)
    if not body.strip() and attachment is None:
        raise _invalid(_("A message cannot be empty."), raw_id)
    if len(body) > settings.SOHBET_MAX_BODY:
        raise ChatError(
            ErrorCode.TOO_LONG,
            _("A message can be at most %(max)s characters.")
            % {"max": settings.SOHBET_MAX_BODY},
            client_id=raw_id,
        )
    if "\x00" in body:
        raise _invalid(_("A message cannot contain NUL characters."), raw_id)
    return SendMessage(
        client_id=client_id,
        body=body,
        attachment=attachment,
        thread=_thread(data, operator=operator),
    )


def _parse_thread_list(data: dict[str, Any]) -> ThreadList:
    status = data.get("status", "open")
    if status not in ("open", "closed", "all"):
        raise _invalid(_("“status” must be open, closed or all."))
    q = data.get("q") or ""
    if not isinstance(q, str):
        raise _invalid(_("“q” must be text."))
    if len(q) > MAX_SEARCH:
        raise ChatError(ErrorCode.TOO_LONG, _("The search text is too long."))
    before_raw = data.get("before")
    before = None
    if before_raw is not None:
        before = parse_datetime(before_raw) if isinstance(before_raw, str) else None
        if before is None:
            raise _invalid(_("“before” must be an ISO 8601 time."))
    limit = data.get("limit", 30)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100:
        raise _invalid(_("“limit” must be between 1 and 100."))
    view = data.get("view", status)
    if view not in VIEWS:
        raise _invalid(
            _("“view” must be one of %(views)s.") % {"views": ", ".join(VIEWS)}
        )
    return ThreadList(
        status=status,
        q=q.strip(),
        before=before,
        limit=limit,
        view=view,
        label=_optional_int(data, "label"),
    )
