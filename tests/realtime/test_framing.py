"""Frames cut to the size a client accepts (realtime.framing), and the settings that are
refused because a message could not fit (chat.checks)."""

from __future__ import annotations

import json

import pytest

from chat import checks
from realtime import framing
from realtime.checks import refuse_to_start_unless_sound

ITEMS = [{"n": n, "body": "ğ" * 40} for n in range(10)]  # 96 bytes each
ITEM_BYTES = framing.byte_size(framing.encode(ITEMS[0]))


def test_byte_size_counts_utf8_bytes() -> None:
    assert framing.byte_size("abc") == 3
    assert framing.byte_size("ğü") == 4
    assert framing.byte_size("\U0001f600") == 4


def test_a_list_frame_is_the_json_of_its_fields_and_items() -> None:
    items = [framing.encode(item) for item in ITEMS[:2]]
    text = framing.list_frame({"type": "sync", "has_more": True}, "messages", items)
    assert json.loads(text) == {
        "type": "sync",
        "has_more": True,
        "messages": ITEMS[:2],
    }
    assert json.loads(framing.list_frame({}, "threads", [])) == {"threads": []}


def test_fitting_takes_the_first_items_that_fit() -> None:
    room = 3 * ITEM_BYTES + 2  # three and their two commas
    chosen = framing.fitting(ITEMS, room=room)
    assert [json.loads(item)["n"] for item in chosen] == [0, 1, 2]
    assert len(framing.fitting(ITEMS, room=room - 1)) == 2


def test_fitting_newest_takes_the_last_items_in_order() -> None:
    chosen = framing.fitting(ITEMS, room=3 * ITEM_BYTES + 2, newest=True)
    assert [json.loads(item)["n"] for item in chosen] == [7, 8, 9]


def test_fitting_always_takes_one_item() -> None:
    assert len(framing.fitting(ITEMS, room=1)) == 1


def test_pages_carry_every_item_in_order_each_within_the_room() -> None:
    room = 4 * ITEM_BYTES + 3
    pages = list(framing.pages(ITEMS, room=room))
    assert [len(page) for page in pages] == [4, 4, 2]
    assert [json.loads(i)["n"] for page in pages for i in page] == list(range(10))
    for page in pages:
        assert framing.byte_size(",".join(page)) <= room


def test_room_leaves_space_for_the_frames_own_fields(settings) -> None:
    settings.SOHBET_MAX_SERVER_FRAME_BYTES = 1000
    fields = {"type": "messages"}
    room = framing.room(fields, "messages")
    items = framing.fitting(ITEMS, room=room)
    assert framing.byte_size(framing.list_frame(fields, "messages", items)) <= 1000
    more = [framing.encode(item) for item in ITEMS[: len(items) + 1]]
    assert framing.byte_size(framing.list_frame(fields, "messages", more)) > 1000


def test_the_default_settings_pass_the_frame_checks() -> None:
    assert checks.check_frame_sizes() == []


def test_a_client_frame_limit_too_small_for_the_longest_message_is_refused(
    settings,
) -> None:
    settings.SOHBET_MAX_FRAME_BYTES = 8000
    assert [error.id for error in checks.check_frame_sizes()] == ["chat.E001"]


def test_a_server_frame_limit_too_small_for_the_longest_message_is_refused(
    settings,
) -> None:
    settings.SOHBET_MAX_SERVER_FRAME_BYTES = 20000
    assert [error.id for error in checks.check_frame_sizes()] == ["chat.E002"]


def test_the_server_refuses_to_start_with_a_smaller_websocket_limit(settings) -> None:
    with pytest.raises(SystemExit, match="SOHBET_MAX_SERVER_FRAME_BYTES"):
        refuse_to_start_unless_sound(32768)
    refuse_to_start_unless_sound(65536)
    refuse_to_start_unless_sound(0)  # no limit: anything goes out


def test_the_server_refuses_to_start_on_a_system_check_error(settings) -> None:
    settings.SOHBET_MAX_SERVER_FRAME_BYTES = 20000
    with pytest.raises(SystemExit, match="System check"):
        refuse_to_start_unless_sound(0)


def test_a_visitors_details_fit_wherever_the_longest_message_does() -> None:
    """chat.E002 covers the ``visitor`` frame: at its largest (chat.context's
    bounds) it is smaller than a ``thread`` frame at its largest."""
    from chat import context
    from chat.selectors import VISITOR_THREADS

    wide, worst, when = "\U0001f600", "\x01", "2000-01-01T00:00:00.000000Z"
    visitor = {
        "id": checks.LARGEST_ID,
        "name": worst * 80,
        "email": worst * 254,
        "user_id": worst * 200,
        "identity_verified": False,
        "url": wide * context.MAX_URL,
        "title": wide * context.MAX_TITLE,
        "referrer": wide * context.MAX_URL,
        "browser": "x" * 40,
        "os": "x" * 40,
        "user_agent": worst * 300,
        "language": "x" * context.MAX_LANGUAGE,
        "timezone": "x" * context.MAX_TIMEZONE,
        "country": "XX",
        "attributes": {
            f"{n:0{context.MAX_KEY}d}": wide * context.MAX_VALUE
            for n in range(context.MAX_ATTRIBUTES)
        },
        "visits": checks.LARGEST_ID,
        "first_seen": when,
        "last_seen": when,
        "threads": [
            {
                "id": checks.LARGEST_ID,
                "status": "closed",
                "created": when,
                "updated": when,
                "admin_url": f"/admin/chat/thread/{checks.LARGEST_ID}/change/",
            }
        ]
        * VISITOR_THREADS,
    }
    frame = {"type": "visitor", "thread": checks.LARGEST_ID, "visitor": visitor}
    largest_thread = checks._largest_thread_frame(checks.TELEGRAM_MAX_TEXT)
    size = framing.byte_size(framing.encode(frame))
    assert size < framing.byte_size(framing.encode(largest_thread))
