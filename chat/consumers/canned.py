"""The operator socket's canned replies: the list for the composer's ``/`` menu, and
a reply's file copied into a conversation (sent then with ``message.send``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chat import canned, events, selectors
from chat.canned_frames import CannedAttach, CannedList
from chat.services import canned as canned_services
from realtime import run_in_db
from realtime.consumer import on


class CannedRepliesMixin:
    user: Any
    if TYPE_CHECKING:  # the consumer's

        async def send_json(self, content: Any, close: bool = False) -> None: ...

    @on("canned.list")
    async def on_canned_list(self, frame: CannedList) -> None:
        replies = await run_in_db(_payloads, user_id=self.user.pk)
        await self.send_json({"type": "canned", "replies": replies})

    @on("canned.attach")
    async def on_canned_attach(self, frame: CannedAttach) -> None:
        attachment = await run_in_db(
            _copy, user_id=self.user.pk, reply_id=frame.canned, thread_id=frame.thread
        )
        await self.send_json(
            {
                "type": "canned.attachment",
                "thread": frame.thread,
                "canned": frame.canned,
                "attachment": events.attachment_payload(attachment),
            }
        )


def _payloads(*, user_id: int) -> list[dict[str, Any]]:
    return [
        canned.canned_payload(reply)
        for reply in canned.list_canned_replies_for_operator(user_id=user_id)
    ]


def _copy(*, user_id: int, reply_id: int, thread_id: int) -> Any:
    reply = canned.get_canned_reply_for_operator(user_id=user_id, reply_id=reply_id)
    thread = selectors.get_thread_for_operator(thread_id=thread_id)
    return canned_services.copy_canned_file(
        reply=reply, thread_id=thread.pk, user_id=user_id
    )
