"""The operators' desk on their socket: labels (created from the inbox, put on and
taken off conversations) and the views' counts. A mixin of OperatorConsumer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chat import desk, desk_frames
from chat.services import labels
from realtime import run_in_db
from realtime.consumer import on

if TYPE_CHECKING:
    from chat.consumers.base import ChatConsumer

    Base = ChatConsumer
else:
    Base = object


class DeskHandlers(Base):
    user: Any

    @on("views")
    async def on_views(self, frame: desk_frames.Views) -> None:
        counts, label_list = await run_in_db(desk.get_views_state, user_id=self.user.pk)
        await self.send_json({"type": "views", "counts": counts, "labels": label_list})

    @on("label.create")
    async def on_label_create(self, frame: desk_frames.LabelCreate) -> None:
        label = await run_in_db(
            labels.create_label, name=frame.name, colour=frame.colour
        )
        if frame.thread is not None:
            await run_in_db(
                labels.set_thread_label,
                thread_id=frame.thread,
                label_id=label.pk,
                on=True,
                by_id=self.user.pk,
            )

    @on("thread.label")
    async def on_thread_label(self, frame: desk_frames.ThreadLabel) -> None:
        await run_in_db(
            labels.set_thread_label,
            thread_id=frame.thread,
            label_id=frame.label,
            on=frame.on,
            by_id=self.user.pk,
        )

    async def chat_labels(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "labels", "labels": event["labels"]})

    async def chat_thread_labels(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {
                "type": "thread.labels",
                "thread": event["thread"],
                "labels": event["labels"],
            }
        )
