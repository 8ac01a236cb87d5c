"""The operator socket's private notes: write one, load a thread's, transfer with a
note, and the live ``note`` and ``mention`` frames. Mixed into OperatorConsumer;
the visitor's consumer has none of it (a note never reaches a visitor's socket)."""

from __future__ import annotations

from typing import Any

from chat import events, notes, services
from chat.note_frames import NoteAdd, NoteList, ThreadTransfer
from chat.selectors import get_thread_for_operator
from realtime import run_in_db
from realtime.consumer import SocketConsumer, on


class NotesMixin(SocketConsumer):
    user: Any

    @on("note.add")
    async def on_note_add(self, frame: NoteAdd) -> None:
        note = await run_in_db(
            services.add_note,
            thread_id=frame.thread,
            author=self.user,
            body=frame.body,
            client_id=frame.client_id,
        )
        # The note itself comes as every operator's ``note`` frame.
        await self.send_json(
            {
                "type": "note.ack",
                "client_id": str(frame.client_id),
                "id": note.pk,
                "thread": note.thread_id,
            }
        )

    @on("notes")
    async def on_notes(self, frame: NoteList) -> None:
        thread = await run_in_db(get_thread_for_operator, thread_id=frame.thread)
        found = await run_in_db(notes.list_notes, thread_id=thread.pk)
        await self.send_page(
            {"type": "notes", "thread": thread.pk},
            "notes",
            [events.note_payload(note) for note in found],
            more=len(found) >= notes.NOTES_LOADED,
            newest=True,
        )

    @on("thread.transfer")
    async def on_thread_transfer(self, frame: ThreadTransfer) -> None:
        await run_in_db(
            services.transfer_thread,
            thread_id=frame.thread,
            by=self.user,
            operator_id=frame.operator,
            text=frame.note,
        )

    async def chat_note(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "note", "note": event["note"]})

    async def chat_mention(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {
                "type": "mention",
                "note": event["note"],
                "visitor_name": event.get("visitor_name", ""),
            }
        )
