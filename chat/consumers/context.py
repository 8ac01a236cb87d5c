"""The visitor socket's part of chat.context: what the page tells of the visitor is
kept on the socket and goes with the conversation's rows while they are not
written; after, it is written coalesced (a visitor clicking through pages costs one
write per WRITE_EVERY seconds at most) and the operators are told."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

from chat import services
from chat.context import Value, VisitorContext, dump_attributes, merge_attributes
from chat.rules import NewConversation
from realtime import run_in_db
from realtime.consumer import on

logger = logging.getLogger(__name__)

# A change is written this long after it came (what follows it goes along), and at
# most once per WRITE_EVERY seconds per socket.
WRITE_DELAY = 0.5
WRITE_EVERY = 5.0
# While a page stays open, the visitor is noted as seen this often (their visit goes
# on: chat.context.VISIT_GAP).
SEEN_EVERY = 10 * 60.0


def _same(a: Value, b: Value) -> bool:
    return type(a) is type(b) and a == b  # True is not 1


class VisitorContextMixin:
    visitor_id: int
    new_conversation: NewConversation | None
    context: dict[str, str]  # stored, or going with the rows; by frame field
    attributes: dict[str, Value]
    _pending: dict[str, str]
    _pending_attributes: dict[str, Value]
    _write_timer: asyncio.TimerHandle | None = None
    _write_task: asyncio.Task[None] | None = None
    _written_at = float("-inf")
    _seen_at = 0.0
    _closing = False

    def start_context(
        self, context: dict[str, str], attributes: dict[str, Value]
    ) -> None:
        self.context, self.attributes = context, attributes
        self._pending, self._pending_attributes = {}, {}
        self._seen_at = asyncio.get_running_loop().time()

    @on("visitor.context")
    async def on_visitor_context(self, frame: VisitorContext) -> None:
        fields = {
            name: value
            for name, value in frame.fields.items()
            if self.context.get(name, "") != value
        }
        patch = {
            key: value
            for key, value in frame.attributes.items()
            if not _same(self.attributes.get(key), value)
        }
        if not fields and not patch:
            return
        merged = merge_attributes(self.attributes, patch)  # too many: nothing changes
        self.context.update(fields)
        self.attributes = merged
        if self.new_conversation is not None:
            self.new_conversation = dataclasses.replace(
                self.new_conversation, **self._row_fields()
            )
            return
        self._pending.update(fields)
        self._pending_attributes.update(patch)
        self._schedule_write()

    def _row_fields(self) -> dict[str, Any]:
        """What the socket knows, as NewConversation's fields."""
        context = self.context
        return {
            "page": context.get("url", ""),
            "page_title": context.get("title", ""),
            "referrer": context.get("referrer", ""),
            "time_zone": context.get("timezone", ""),
            "language": context.get("language", ""),
            "attributes": dump_attributes(self.attributes),
        }

    def context_written_elsewhere(self) -> None:
        """The conversation's rows were written without this socket's context (by
        an upload, or another tab): it is written now."""
        self._pending.update({k: v for k, v in self.context.items() if v})
        self._pending_attributes.update(self.attributes)
        if self._pending or self._pending_attributes:
            self._schedule_write()

    def _schedule_write(self) -> None:
        if self._write_timer is not None or self._write_task is not None:
            return  # the pending change goes with (or right after) that write
        loop = asyncio.get_running_loop()
        delay = max(WRITE_DELAY, self._written_at + WRITE_EVERY - loop.time())
        self._write_timer = loop.call_later(delay, self._start_write)

    def _start_write(self) -> None:
        self._write_timer = None
        if not self._closing:
            self._write_task = asyncio.ensure_future(self._write())

    async def _write(self) -> None:
        fields, patch = self._pending, self._pending_attributes
        self._pending, self._pending_attributes = {}, {}
        self._written_at = asyncio.get_running_loop().time()
        try:
            await run_in_db(
                services.update_visitor_context,
                visitor_id=self.visitor_id,
                fields=fields,
                attributes=patch,
            )
        except Exception:
            # A hint for operators: not worth a retry loop; the next change (or
            # the next page) writes it again.
            logger.warning("visitor context not written", exc_info=True)
        finally:
            self._write_task = None
            if (self._pending or self._pending_attributes) and not self._closing:
                self._schedule_write()

    async def note_seen(self) -> None:
        """After a ping: the visitor is still here (at most every SEEN_EVERY)."""
        now = asyncio.get_running_loop().time()
        if self.new_conversation is not None or now - self._seen_at < SEEN_EVERY:
            return
        self._seen_at = now
        await run_in_db(services.note_visitor_seen, visitor_id=self.visitor_id)

    async def close_context(self) -> None:
        """The socket closes: what waits is written now."""
        self._closing = True
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None
        if self._write_task is not None:
            await self._write_task
        if self._pending or self._pending_attributes:
            await self._write()
