"""The chat's live events: group names, event types and shapes (their payloads are
chat/payloads.py's, re-exported here).

Events are ``(group, event)`` pairs made by the constructors below and sent with
``realtime.send_on_commit`` (or ``realtime.send_now`` when they change no row); each
event shape is declared once here. A socket's handler for an event type is named after
it as Channels does ("chat.messages" -> ``chat_messages``).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Final, Literal, TypedDict

from chat.payloads import (
    attachment_payload,
    iso,
    message_payload,
    thread_payload,
    visitor_payload,
    visitor_thread_payload,
)
from realtime.delivery import Event
from realtime.hub import MESSAGES

if TYPE_CHECKING:
    from chat.models import Message, Note, Thread

__all__ = [
    "MESSAGES",
    "Event",
    "attachment_payload",
    "iso",
    "message_payload",
    "thread_payload",
    "visitor_payload",
    "visitor_thread_payload",
]

OPERATORS_GROUP = "operators"  # every operator socket: all threads' news
VISITORS_GROUP = "visitors"  # every visitor socket: whether an operator is online

# Event types.
THREADS: Final = "chat.threads"
TYPING: Final = "chat.typing"
READ: Final = "chat.read"
DELIVERED: Final = "chat.delivered"
PRESENCE: Final = "chat.presence"
VISITOR: Final = "chat.visitor"  # who a visitor is, where they are now (operators)
AWAY: Final = "chat.away"  # an operator's away switch: to their own sockets
TEAM: Final = "chat.team"  # an operator online, away or offline: to the operators
HOURS: Final = "chat.hours"  # the business hours changed: to every visitor socket
EMAILED: Final = "chat.emailed"  # operators' messages that went to the visitor by email
SESSION_ENDED: Final = "session.ended"  # the login signed out: the socket is refused
RIGHTS_CHANGED: Final = "rights.changed"  # reconnect: the new socket is checked again
SESSION_ROTATED: Final = "session.rotated"  # a visitor's session has a new key
DEVICE_JOINED: Final = "chat.device_joined"  # a device code was used (the visitor's)
LABELS: Final = "chat.labels"  # the labels were changed: to the operators
THREAD_LABELS: Final = "chat.thread_labels"  # a thread's labels: to the operators


def thread_group(thread_id: int) -> str:
    """The group of a thread's visitor sockets (all their tabs)."""
    return f"thread.{thread_id}"


def session_group(session_key: str) -> str:
    """The group of the sockets opened with one session (its name also stands for
    the session in events: a digest, never the key)."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:32]


def operator_group(user_id: int) -> str:
    """The group of one operator's sockets, in every login session and process."""
    return f"operator.{user_id}"


# --- Event shapes -------------------------------------------------------------------


class MessagesEvent(TypedDict):
    type: Literal["chat.messages"]
    messages: list[dict[str, Any]]  # message_payload()s, in commit order


class ThreadsEvent(TypedDict):
    type: Literal["chat.threads"]
    # thread_payload()s to operators; visitor_thread_payload()s to a thread's group
    threads: list[dict[str, Any]]


class _Typing(TypedDict):
    type: Literal["chat.typing"]
    thread: int
    author: Literal["visitor", "operator"]
    active: bool
    name: str


class TypingEvent(_Typing, total=False):
    origin: str  # the typist's connection: it does not hear itself


class ReadEvent(TypedDict):
    type: Literal["chat.read"]
    thread: int
    by: Literal["visitor", "operator"]
    up_to: int


class DeliveredEvent(TypedDict):
    type: Literal["chat.delivered"]
    thread: int
    up_to: int


class OperatorsPresenceEvent(TypedDict):
    type: Literal["chat.presence"]
    operators_online: bool


class VisitorPresenceEvent(TypedDict):
    type: Literal["chat.presence"]
    thread: int
    visitor_online: bool


class VisitorEvent(TypedDict):
    type: Literal["chat.visitor"]
    visitor: dict[str, Any]  # visitor_payload()


class DeviceJoinedEvent(TypedDict):
    type: Literal["chat.device_joined"]
    thread: int


class AwayEvent(TypedDict):
    type: Literal["chat.away"]
    away: bool


class TeamEvent(TypedDict):
    type: Literal["chat.team"]
    operator: dict[str, Any]  # team_member_payload()


class HoursEvent(TypedDict):
    type: Literal["chat.hours"]
    hours: list[list[str]] | None  # chat.availability.hours_payload()


class EmailedEvent(TypedDict):
    type: Literal["chat.emailed"]
    thread: int
    messages: list[int]  # ids


class LabelsEvent(TypedDict):
    type: Literal["chat.labels"]
    labels: list[dict[str, Any]]  # chat.desk.label_payload()s


class ThreadLabelsEvent(TypedDict):
    type: Literal["chat.thread_labels"]
    thread: int
    labels: list[int]  # ids


class _Session(TypedDict):
    type: Literal["session.ended", "rights.changed", "session.rotated"]


class SessionEvent(_Session, total=False):
    session: str  # session.rotated: session_group() of the old key


def message_events(messages: list[Message]) -> list[Event]:
    """New messages, to their thread's visitors and to the operators."""
    batch: list[Event] = []
    for message in messages:
        payload = message_payload(message)
        event: MessagesEvent = {"type": MESSAGES, "messages": [payload]}
        batch.append((thread_group(message.thread_id), event))
        batch.append((OPERATORS_GROUP, event))
    return batch


def thread_state_events(
    threads: list[Thread], online: set[int], *, to_visitors: bool = True
) -> list[Event]:
    """Threads' new state: all of it to the operators (with whether each visitor's
    page is open), its status to each thread's visitor sockets (``to_visitors``:
    not for conversations just begun, open since their pages said hello)."""
    if not threads:
        return []
    to_operators: ThreadsEvent = {
        "type": THREADS,
        "threads": [thread_payload(t, visitor_online=t.pk in online) for t in threads],
    }
    batch: list[Event] = [(OPERATORS_GROUP, to_operators)]
    for thread in threads if to_visitors else ():
        to_visitor: ThreadsEvent = {
            "type": THREADS,
            "threads": [visitor_thread_payload(thread)],
        }
        batch.append((thread_group(thread.pk), to_visitor))
    return batch


def typing_event(
    group: str,
    *,
    thread: int,
    author: Literal["visitor", "operator"],
    active: bool,
    name: str,
    origin: str | None = None,
) -> Event:
    event: TypingEvent = {
        "type": TYPING,
        "thread": thread,
        "author": author,
        "active": active,
        "name": name,
    }
    if origin is not None:
        event["origin"] = origin
    return group, event


def read_events(
    *, thread: int, by: Literal["visitor", "operator"], up_to: int
) -> list[Event]:
    """A read mark, to the thread's visitor sockets and the operators."""
    event: ReadEvent = {"type": READ, "thread": thread, "by": by, "up_to": up_to}
    return [(thread_group(thread), event), (OPERATORS_GROUP, event)]


def delivered_event(*, thread: int, up_to: int) -> Event:
    """The operators' inbox has the visitor's messages up to ``up_to``."""
    event: DeliveredEvent = {"type": DELIVERED, "thread": thread, "up_to": up_to}
    return thread_group(thread), event


def operators_presence_event(*, online: bool) -> Event:
    event: OperatorsPresenceEvent = {"type": PRESENCE, "operators_online": online}
    return VISITORS_GROUP, event


def away_event(*, user_id: int, away: bool) -> Event:
    """An operator switched away (or back): their sockets leave (or join) the
    operators that count for visitors."""
    event: AwayEvent = {"type": AWAY, "away": away}
    return operator_group(user_id), event


def team_member_payload(*, user_id: int, name: str, status: str) -> dict[str, Any]:
    """An operator as colleagues see them: status "online", "away" or "offline"."""
    return {"id": user_id, "name": name, "status": status}


def team_event(*, user_id: int, name: str, status: str) -> Event:
    event: TeamEvent = {
        "type": TEAM,
        "operator": team_member_payload(user_id=user_id, name=name, status=status),
    }
    return OPERATORS_GROUP, event


def hours_event(hours: list[list[str]] | None) -> Event:
    event: HoursEvent = {"type": HOURS, "hours": hours}
    return VISITORS_GROUP, event


def visitor_presence_event(*, thread: int, online: bool) -> Event:
    event: VisitorPresenceEvent = {
        "type": PRESENCE,
        "thread": thread,
        "visitor_online": online,
    }
    return OPERATORS_GROUP, event


def visitor_event(payload: dict[str, Any]) -> Event:
    """A visitor's details changed (their page, attributes, visits): to operators."""
    event: VisitorEvent = {"type": VISITOR, "visitor": payload}
    return OPERATORS_GROUP, event


def emailed_event(*, thread: int, message_ids: list[int]) -> Event:
    """Operators' messages the visitor had not read went to them by email."""
    event: EmailedEvent = {"type": EMAILED, "thread": thread, "messages": message_ids}
    return OPERATORS_GROUP, event


def device_joined_event(*, thread: int) -> Event:
    """Another browser was attached to the thread's visitor with a device code: to
    the visitor's sockets (the dialog that showed the code says so)."""
    event: DeviceJoinedEvent = {"type": DEVICE_JOINED, "thread": thread}
    return thread_group(thread), event


def labels_event(labels: list[dict[str, Any]]) -> Event:
    """The labels as they are now (one was added, renamed or deleted)."""
    event: LabelsEvent = {"type": LABELS, "labels": labels}
    return OPERATORS_GROUP, event


def thread_labels_event(*, thread: int, labels: list[int]) -> Event:
    """A thread's labels as they are now."""
    event: ThreadLabelsEvent = {
        "type": THREAD_LABELS,
        "thread": thread,
        "labels": labels,
    }
    return OPERATORS_GROUP, event


def session_event(
    group: str,
    kind: Literal["session.ended", "rights.changed", "session.rotated"],
    *,
    session: str | None = None,
) -> Event:
    event: SessionEvent = {"type": kind}
    if session is not None:
        event["session"] = session
    return group, event


# --- Private notes (chat.Note): operators only ----------------------------------------

NOTE: Final = "chat.note"  # a private note: to the operators, never a visitor's group
MENTION: Final = "chat.mention"  # a note named an operator: to their own group


class NoteEvent(TypedDict):
    type: Literal["chat.note"]
    note: dict[str, Any]  # note_payload()


class MentionEvent(TypedDict):
    type: Literal["chat.mention"]
    note: dict[str, Any]  # note_payload()
    visitor_name: str


def note_events(
    note: Note, *, mentioned: list[int], visitor_name: str = ""
) -> list[Event]:
    """A new note, to the operators; and to each operator it mentions, an alert."""
    payload = note_payload(note, mentions=mentioned)
    event: NoteEvent = {"type": NOTE, "note": payload}
    batch: list[Event] = [(OPERATORS_GROUP, event)]
    for user_id in mentioned:
        alert: MentionEvent = {
            "type": MENTION,
            "note": payload,
            "visitor_name": visitor_name,
        }
        batch.append((operator_group(user_id), alert))
    return batch


def note_payload(note: Note, *, mentions: list[int] | None = None) -> dict[str, Any]:
    """The wire form of a private note (docs/protocol.md, "Private notes");
    ``mentions`` when known, else read from the note (prefetched)."""
    if mentions is None:
        mentions = [user.pk for user in note.mentions.all()]
    return {
        "id": note.pk,
        "thread": note.thread_id,
        "client_id": str(note.client_id),
        "author_id": note.author_id,
        "author_name": note.author_name,
        "body": note.body,
        "created": iso(note.created_at),
        "source": note.source,
        "mentions": mentions,
    }
