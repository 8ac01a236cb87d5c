"""An operator socket's blocks and ratings (a mixin of OperatorConsumer): block or
unblock a thread's visitor, and a thread's block and rating beside its messages
(``thread.extra``, with each opened thread and live)."""

from __future__ import annotations

from typing import Any

from chat import safety, safety_frames, selectors, services
from chat.models import Block, Thread
from realtime import run_in_db
from realtime.consumer import on


class OperatorSafetyMixin:
    user: Any

    async def send_thread_extra(self, thread: Thread) -> None:
        """With an opened thread's state: its block and rating."""
        extra = await run_in_db(
            safety.get_thread_extra, thread_id=thread.pk, visitor_id=thread.visitor_id
        )
        await self.send_json({"type": "thread.extra", **extra})  # type: ignore[attr-defined]

    @on("visitor.block")
    async def on_visitor_block(self, frame: safety_frames.BlockVisitor) -> None:
        thread = await run_in_db(
            selectors.get_thread_for_operator, thread_id=frame.thread
        )
        await run_in_db(
            services.block_visitor,
            visitor_id=thread.visitor_id,
            reason=frame.reason,
            by=self.user,
            source=Block.Source.INBOX,
            network=frame.network,
        )

    @on("visitor.unblock")
    async def on_visitor_unblock(self, frame: safety_frames.UnblockVisitor) -> None:
        thread = await run_in_db(
            selectors.get_thread_for_operator, thread_id=frame.thread
        )
        await run_in_db(
            services.unblock_visitor, visitor_id=thread.visitor_id, by=self.user
        )

    async def chat_extra(self, event: dict[str, Any]) -> None:
        await self.send_json(  # type: ignore[attr-defined]
            {"type": "thread.extra", **event["extra"]}
        )
