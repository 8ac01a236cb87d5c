"""The operators' desk (docs/operators.md): the views and their counts, "Waiting
longest", labels, and automatic assignment by turns."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from chat import desk, services
from chat.exceptions import ChatError, ErrorCode
from chat.models import Message, Thread, Visitor
from chat.services import assignment, labels

pytestmark = pytest.mark.django_db(transaction=True)


def new_thread(body: str = "hello") -> int:
    thread = Thread.objects.create(visitor=Visitor.objects.create())
    services.post_message(thread_id=thread.pk, client_id=uuid.uuid4(), body=body)
    return thread.pk


def answer(thread_id: int, operator: Any) -> None:
    services.post_message(
        thread_id=thread_id,
        client_id=uuid.uuid4(),
        body="How can I help?",
        author=Message.Author.OPERATOR,
        operator_id=operator.pk,
        author_name=operator.display_name,
    )


async def send(visitor: Any, body: str = "hello") -> dict[str, Any]:
    await visitor.send(type="message.send", client_id=str(uuid.uuid4()), body=body)
    return await visitor.receive_type("ack")


async def assigned_in_frame(operator: Any, thread: int) -> Any:
    """The assignee the next ``thread`` frames about ``thread`` say, once one says
    there is one (else what the last said, after 5 s)."""
    while True:
        frame = await operator.receive_type("thread")
        if frame["thread"]["id"] == thread and frame["thread"]["assigned_to"]:
            return frame["thread"]["assigned_to"]["id"]


# --- Views and counts ---------------------------------------------------------------


async def test_counts_follow_conversations_as_they_arrive_are_answered_and_closed(
    make_operator,
):
    me, colleague = await make_operator("ayse"), await make_operator("mehmet")
    counts = sync_to_async(desk.get_view_counts)
    first, second, third = [await sync_to_async(new_thread)() for _ in range(3)]
    assert await counts(user_id=me.pk) == {
        "mine": 0, "unassigned": 3, "open": 3, "waiting": 3, "closed": 0, "all": 3,
    }  # fmt: skip
    await sync_to_async(answer)(first, me)  # the first answer takes the thread
    await sync_to_async(answer)(second, colleague)
    await sync_to_async(services.close_thread)(thread_id=third)
    assert await counts(user_id=me.pk) == {
        "mine": 1, "unassigned": 0, "open": 2, "waiting": 0, "closed": 1, "all": 3,
    }  # fmt: skip
    assert (await counts(user_id=colleague.pk))["mine"] == 1


async def test_the_threads_answer_and_the_views_frame_carry_the_counts(
    connect_operator,
):
    operator = await connect_operator()
    thread = await sync_to_async(new_thread)()
    await operator.send(type="threads", view="unassigned", q="", before=None, limit=30)
    page = await operator.receive_type("threads")
    assert [t["id"] for t in page["threads"]] == [thread]
    assert page["counts"]["unassigned"] == page["counts"]["waiting"] == 1
    assert page["threads"][0]["waiting_since"] and page["threads"][0]["labels"] == []
    await operator.send(type="views")
    views = await operator.receive_type("views")
    assert views["counts"]["mine"] == 0 and views["labels"] == []


async def test_a_later_page_carries_no_counts(connect_operator):
    operator = await connect_operator()
    await sync_to_async(new_thread)()
    await operator.send(type="threads", view="all", before="2100-01-01T00:00:00Z")
    assert "counts" not in await operator.receive_type("threads")


async def test_an_unknown_view_is_refused(connect_operator):
    operator = await connect_operator()
    await operator.send(type="threads", view="everything")
    assert (await operator.receive_type("error"))["code"] == "invalid"


async def test_waiting_longest_lists_the_oldest_unanswered_first(make_operator):
    me = await make_operator()
    first, second, third = [await sync_to_async(new_thread)() for _ in range(3)]
    await sync_to_async(answer)(first, me)
    await sync_to_async(services.post_message)(
        thread_id=first, client_id=uuid.uuid4(), body="one more thing"
    )

    def waiting(before: Any = None) -> list[int]:
        threads, _more = desk.list_threads_in_view(
            view="waiting", user_id=me.pk, label_id=None, q="", before=before, limit=2
        )
        return [t.pk for t in threads]

    assert await sync_to_async(waiting)() == [second, third]
    cursor = await sync_to_async(Thread.objects.get)(pk=third)
    assert await sync_to_async(waiting)(cursor.waiting_since) == [first]


# --- Labels -------------------------------------------------------------------------


async def test_a_label_put_on_a_conversation_reaches_every_operator_and_filters(
    connect_operator, make_operator
):
    ayse = await connect_operator()
    mehmet = await connect_operator(await make_operator("mehmet"))
    labelled, other = [await sync_to_async(new_thread)() for _ in range(2)]
    await ayse.send(
        type="label.create", name="  Billing  ", colour="#b91c1c", thread=labelled
    )
    for operator in (ayse, mehmet):
        [label] = (await operator.receive_type("labels"))["labels"]
        assert label["name"] == "Billing" and label["colour"] == "#b91c1c"
        frame = await operator.receive_type("thread.labels")
        assert frame == {
            "type": "thread.labels",
            "thread": labelled,
            "labels": [label["id"]],
        }
    await mehmet.send(type="threads", view="open", label=label["id"])
    page = await mehmet.receive_type("threads")
    assert [t["id"] for t in page["threads"]] == [labelled]
    assert page["threads"][0]["labels"] == [label["id"]]
    await mehmet.send(type="thread.label", thread=labelled, label=label["id"], on=False)
    for operator in (ayse, mehmet):
        assert (await operator.receive_type("thread.labels"))["labels"] == []
    assert other != labelled


async def test_opening_a_conversation_tells_its_labels(connect_operator):
    operator = await connect_operator()
    thread = await sync_to_async(new_thread)()
    label = await sync_to_async(labels.create_label)(name="VIP", colour="#15803d")
    await sync_to_async(labels.set_thread_label)(
        thread_id=thread, label_id=label.pk, on=True, by_id=None
    )
    await operator.send(type="sync", thread=thread, after=0)
    frame = await operator.receive_type("thread")
    while "labels" not in frame["thread"]:  # the live news of its first message
        frame = await operator.receive_type("thread")
    assert frame["thread"]["labels"] == [label.pk]


async def test_a_label_of_the_same_name_is_the_same_label():
    first = await sync_to_async(labels.create_label)(name="Bug", colour="#1d4ed8")
    again = await sync_to_async(labels.create_label)(name="bug", colour="#be185d")
    assert again.pk == first.pk and again.colour == "#1d4ed8"


async def test_a_bad_label_is_refused_and_changes_nothing(connect_operator):
    operator = await connect_operator()
    thread = await sync_to_async(new_thread)()
    await operator.send(
        type="label.create", name="Pink", colour="#ff00ff", thread=thread
    )
    assert (await operator.receive_type("error"))["code"] == "invalid"
    await operator.send(type="label.create", name="   ", colour="#be185d")
    assert (await operator.receive_type("error"))["code"] == "invalid"
    await operator.send(type="thread.label", thread=thread, label=999, on=True)
    assert (await operator.receive_type("error"))["code"] == "not_found"
    assert await sync_to_async(desk.list_labels)() == []


async def test_a_conversation_holds_at_most_ten_labels():
    thread = await sync_to_async(new_thread)()
    for n in range(10):
        label = await sync_to_async(labels.create_label)(name=f"l{n}", colour="#4b5563")
        await sync_to_async(labels.set_thread_label)(
            thread_id=thread, label_id=label.pk, on=True, by_id=None
        )
    extra = await sync_to_async(labels.create_label)(name="extra", colour="#4b5563")
    with pytest.raises(ChatError) as refused:
        await sync_to_async(labels.set_thread_label)(
            thread_id=thread, label_id=extra.pk, on=True, by_id=None
        )
    assert refused.value.code == ErrorCode.FORBIDDEN


# --- Automatic assignment -----------------------------------------------------------


async def test_new_conversations_go_by_turns_to_operators_online_and_not_away(
    connect_operator, connect_visitor, make_operator
):
    await sync_to_async(assignment.set_auto_assignment)(enabled=True)
    ayse = await connect_operator(await make_operator("ayse"))
    burak = await connect_operator(await make_operator("burak"))
    away = await connect_operator(await make_operator("cem"))
    await make_operator("deniz")  # never online
    await sync_to_async(services.set_operator_away)(user_id=away.user.pk, away=True)
    got = []
    for _ in range(3):
        visitor = await connect_visitor()
        ack = await send(visitor)
        got.append(await assigned_in_frame(ayse, ack["thread"]))
    assert got == [ayse.user.pk, burak.user.pk, ayse.user.pk]
    stored = await sync_to_async(
        lambda: list(
            Thread.objects.order_by("pk").values_list("assigned_to", flat=True)
        )
    )()
    assert stored == got


async def test_with_nobody_online_a_new_conversation_stays_unassigned(
    connect_visitor, make_operator
):
    await make_operator()
    await sync_to_async(assignment.set_auto_assignment)(enabled=True)
    visitor = await connect_visitor()
    ack = await send(visitor)
    assert await sync_to_async(desk.list_available_operator_ids)() == []
    thread = await sync_to_async(Thread.objects.get)(pk=ack["thread"])
    assert thread.assigned_to_id is None


async def test_switched_off_nothing_is_assigned(connect_operator, connect_visitor):
    operator = await connect_operator()
    visitor = await connect_visitor()
    ack = await send(visitor)
    frame = await operator.receive_type("thread")
    assert frame["thread"]["id"] == ack["thread"]
    assert frame["thread"]["assigned_to"] is None


async def test_a_thread_two_processes_ask_for_is_assigned_once(
    connect_operator, make_operator
):
    ayse = await connect_operator(await make_operator("ayse"))
    burak = await connect_operator(await make_operator("burak"))
    await sync_to_async(assignment.set_auto_assignment)(enabled=True)
    thread = await sync_to_async(new_thread)()
    assign = sync_to_async(assignment.assign_automatically)
    first = await assign(thread_ids=[thread])
    second = await assign(thread_ids=[thread])  # another process, the same thread
    assert {k: v.pk for k, v in first.items()} == {thread: ayse.user.pk}
    assert second == {}
    stored = await sync_to_async(Thread.objects.get)(pk=thread)
    assert stored.assigned_to_id == ayse.user.pk
    # The turn moved once: the next conversation is Burak's.
    following = await sync_to_async(new_thread)()
    assert (await assign(thread_ids=[following]))[following].pk == burak.user.pk


async def test_a_thread_someone_took_meanwhile_is_left_to_them(
    connect_operator, make_operator
):
    ayse = await connect_operator(await make_operator("ayse"))
    await sync_to_async(assignment.set_auto_assignment)(enabled=True)
    thread = await sync_to_async(new_thread)()
    await sync_to_async(answer)(thread, ayse.user)
    burak = await make_operator("burak")
    await sync_to_async(services.assign_thread)(thread_id=thread, operator_id=burak.pk)
    assert (
        await sync_to_async(assignment.assign_automatically)(thread_ids=[thread]) == {}
    )


def test_the_turn_goes_round() -> None:
    assert desk.next_in_turn([2, 5, 9], None) == 2
    assert desk.next_in_turn([2, 5, 9], 5) == 9
    assert desk.next_in_turn([2, 5, 9], 9) == 2
    assert desk.next_in_turn([2, 5, 9], 3) == 5  # the last one went away


@pytest.mark.postgres_redis
async def test_two_processes_at_once_assign_a_thread_once(
    connect_operator, make_operator
):
    """Two web processes' thread-event steps for one thread, at the same instant, on
    their own database connections: one assigns it, the other finds it taken."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    await connect_operator(await make_operator("ayse"))
    await connect_operator(await make_operator("burak"))
    await sync_to_async(assignment.set_auto_assignment)(enabled=True)
    thread = await sync_to_async(new_thread)()
    start = threading.Barrier(2)

    def one_process() -> dict[int, Any]:
        try:
            start.wait(5)
            return assignment.assign_automatically(thread_ids=[thread])
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        results = await sync_to_async(
            lambda: [f.result(10) for f in [pool.submit(one_process) for _ in (1, 2)]]
        )()
    assert sorted(len(r) for r in results) == [0, 1]
    [winner] = [r[thread].pk for r in results if r]
    stored = await sync_to_async(Thread.objects.get)(pk=thread)
    assert stored.assigned_to_id == winner
