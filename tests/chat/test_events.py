"""Every live event the chat sends (chat.events) is plain JSON: what a channel layer
carries between processes comes out as it went in, in the shape declared for it."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any, get_type_hints

import pytest

from chat import events
from chat.models import Message, Note, Thread, Visitor

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def message() -> Message:
    return Message(
        pk=11,
        thread_id=3,
        seq=2,
        client_id=uuid.UUID(int=5),
        author=Message.Author.VISITOR,
        author_name="Ayşe",
        body='quote " and ş',
        created_at=NOW,
        source=Message.Source.WEB,
    )


def thread() -> Thread:
    return Thread(
        pk=3,
        visitor=Visitor(pk=4, name="Ayşe"),
        status=Thread.Status.OPEN,
        last_message=message(),
        created_at=NOW,
        updated_at=NOW,
    )


ALL = {
    "message_events": lambda: events.message_events([message()]),
    "thread_state_events": lambda: events.thread_state_events([thread()], {3}),
    "typing_event": lambda: [
        events.typing_event(
            events.OPERATORS_GROUP, thread=3, author="visitor", active=True, name="A"
        )
    ],
    "read_events": lambda: events.read_events(thread=3, by="operator", up_to=11),
    "delivered_event": lambda: [events.delivered_event(thread=3, up_to=11)],
    "operators_presence_event": lambda: [events.operators_presence_event(online=True)],
    "visitor_presence_event": lambda: [
        events.visitor_presence_event(thread=3, online=False)
    ],
    "away_event": lambda: [events.away_event(user_id=2, away=True)],
    "team_event": lambda: [events.team_event(user_id=2, name="Ayşe", status="away")],
    "hours_event": lambda: [
        events.hours_event([["2026-12-07T09:00:00Z", "2026-12-07T17:00:00Z"]])
    ],
    "device_joined_event": lambda: [events.device_joined_event(thread=3)],
    "labels_event": lambda: [
        events.labels_event([{"id": 1, "name": "VIP", "colour": "#15803d"}])
    ],
    "thread_labels_event": lambda: [events.thread_labels_event(thread=3, labels=[1])],
    "note_events": lambda: events.note_events(
        Note(pk=8, thread_id=3, client_id=uuid.UUID(int=6), body="ş", created_at=NOW),
        mentioned=[2],
        visitor_name="Ayşe",
    ),
    "session_event": lambda: [
        events.session_event(
            events.thread_group(3),
            events.SESSION_ROTATED,
            session=events.session_group("k"),
        )
    ],
}
SHAPES = {
    events.MESSAGES: events.MessagesEvent,
    events.THREADS: events.ThreadsEvent,
    events.TYPING: events.TypingEvent,
    events.READ: events.ReadEvent,
    events.DELIVERED: events.DeliveredEvent,
    events.SESSION_ROTATED: events.SessionEvent,
    events.AWAY: events.AwayEvent,
    events.TEAM: events.TeamEvent,
    events.HOURS: events.HoursEvent,
    events.DEVICE_JOINED: events.DeviceJoinedEvent,
    events.LABELS: events.LabelsEvent,
    events.THREAD_LABELS: events.ThreadLabelsEvent,
    events.NOTE: events.NoteEvent,
    events.MENTION: events.MentionEvent,
}


@pytest.mark.parametrize("name", sorted(ALL))
def test_an_event_comes_out_of_json_as_it_went_in(name: str) -> None:
    for group, event in ALL[name]():
        assert isinstance(group, str) and group
        assert json.loads(json.dumps(event)) == event


@pytest.mark.parametrize("name", sorted(ALL))
def test_an_event_has_the_keys_its_shape_declares(name: str) -> None:
    for _group, event in ALL[name]():
        shape: Any = SHAPES.get(event["type"])
        if shape is None:  # presence: one of two shapes
            shape = (
                events.OperatorsPresenceEvent
                if "operators_online" in event
                else events.VisitorPresenceEvent
            )
        declared = set(get_type_hints(shape))
        assert shape.__required_keys__ <= set(event) <= declared
