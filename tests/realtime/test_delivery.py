"""How events leave a process (realtime.delivery): merged per group in commit order,
one publish to every process's hub."""

from __future__ import annotations

from realtime.delivery import coalesce, route
from realtime.hub import HUB_EVENTS, HUB_GROUP, MESSAGES


def msg(n: int) -> dict[str, object]:
    return {"type": MESSAGES, "messages": [n]}


def test_message_events_are_merged_per_group_in_commit_order() -> None:
    thread = {"type": "chat.threads", "threads": [2]}
    merged = coalesce(
        [
            ("t1", msg(1)),
            ("ops", msg(1)),
            ("t2", msg(2)),
            ("ops", msg(2)),
            ("ops", thread),
            ("ops", msg(3)),
            ("t1", msg(3)),
        ]
    )
    assert merged == [
        ("t1", {"type": MESSAGES, "messages": [1, 3]}),
        ("ops", {"type": MESSAGES, "messages": [1, 2]}),
        ("t2", {"type": MESSAGES, "messages": [2]}),
        ("ops", thread),
        ("ops", {"type": MESSAGES, "messages": [3]}),
    ]


def test_merging_changes_none_of_the_events_it_was_given() -> None:
    first, second = msg(1), msg(2)
    coalesce([("t1", first), ("t1", second)])
    assert (first, second) == (msg(1), msg(2))


def test_a_batchs_events_travel_together_to_the_hubs() -> None:
    presence = {"type": "chat.presence", "operators_online": True}
    ended = {"type": "session.ended"}
    routed = route(
        [
            ("thread.1", msg(1)),
            ("operators", msg(1)),
            ("thread.2", msg(2)),
            ("operators", msg(2)),
            ("visitors", presence),
            ("session.abc", ended),
        ]
    )
    # One publish for every group (each group's messages merged, in order).
    assert routed == [
        (
            HUB_GROUP,
            {
                "type": HUB_EVENTS,
                "events": [
                    ["thread.1", msg(1)],
                    ["operators", {"type": MESSAGES, "messages": [1, 2]}],
                    ["thread.2", msg(2)],
                    ["visitors", presence],
                    ["session.abc", ended],
                ],
            },
        ),
    ]
    assert route([]) == []
