"""The humans' side: the updates operators make in the chat (``OperatorChat``, the
builders ``FakeBotApi`` offers tests) and ``getUpdates``, which delivers them the
way Telegram does: every update below ``offset`` is confirmed and dropped, a poll
waits up to ``timeout`` seconds, and a second poll ends a waiting one with 409."""

from __future__ import annotations

import threading
import time
from typing import Any

from tests.telegram.fakebot.errors import CONFLICT, ApiError, TopicClosed
from tests.telegram.fakebot.server import Params
from tests.telegram.fakebot.state import (
    OPERATOR_USER_ID,
    Chat,
    Key,
    State,
    utf16_length,
)

UPDATE_LIMIT = 100
# Kinds Telegram sends only to a bot that names them in allowed_updates.
ASKED_FOR_ONLY = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)


class UpdateQueue:
    """Updates not yet confirmed; callers hold the fake's lock (``cond``)."""

    def __init__(self, cond: threading.Condition, stopping: threading.Event) -> None:
        self._cond = cond
        self._stopping = stopping
        self._updates: list[dict[str, Any]] = []
        self._next_id = 1
        self._allowed: set[str] = set()
        self._generation = 0
        self.confirmed_offset = 0

    def push(self, update: dict[str, Any]) -> int:
        update_id = self._next_id
        self._next_id += 1
        body = {key: value for key, value in update.items() if key != "update_id"}
        self._updates.append({"update_id": update_id, **body})
        self._cond.notify_all()
        return update_id

    def push_raw(self, update: dict[str, Any]) -> None:
        self._next_id = max(self._next_id, int(update["update_id"]) + 1)
        self._updates.append(dict(update))
        self._cond.notify_all()

    def poll(self, params: Params) -> list[dict[str, Any]]:
        """getUpdates: waits on ``cond`` (released meanwhile). Raises ApiError."""
        offset = params.integer("offset") or 0
        limit = min(max(params.integer("limit") or UPDATE_LIMIT, 1), UPDATE_LIMIT)
        timeout = max(params.number("timeout") or 0.0, 0.0)
        allowed = params.structure("allowed_updates")
        if allowed is not None:
            self._allowed = {str(kind) for kind in allowed}
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self.confirmed_offset = max(self.confirmed_offset, offset)
        self._generation += 1
        generation = self._generation
        self._cond.notify_all()  # a poll still waiting is now superseded
        deadline = time.monotonic() + timeout
        while True:
            if generation != self._generation:
                raise ApiError(409, CONFLICT)
            batch = [
                dict(update)
                for update in self._updates
                if update["update_id"] >= offset
                and (
                    _kind(update) in self._allowed
                    if self._allowed
                    else _kind(update) not in ASKED_FOR_ONLY
                )
            ][:limit]
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or self._stopping.is_set():
                return batch
            self._cond.wait(remaining)


def _kind(update: dict[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


class OperatorChat:
    """Updates written by people in the chats (returned, not pushed: pass them to
    ``push_update``). Only admins (OPERATOR_USER_ID, the group's owner) write in a
    closed topic: for anyone else the builders raise TopicClosed, as Telegram's
    app refuses it."""

    chat_id: int
    _cond: threading.Condition
    _state: State
    _updates: UpdateQueue

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates with the next update_id; returns the id."""
        with self._cond:
            return self._updates.push(update)

    def push_raw_update(self, update: dict[str, Any]) -> None:
        """Queue an update with its own update_id (a redelivery, a duplicate)."""
        with self._cond:
            self._updates.push_raw(update)

    def operator_text(
        self, text: str, *, entities: list[dict[str, Any]] | None = None, **sender: Any
    ) -> dict[str, Any]:
        """A text message from a human: ``user_id`` (required), ``first_name``,
        ``username``, ``message_thread_id``, ``reply_to_message_id``, ``chat_id``
        (the operator chat unless given)."""
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return self._human_message(content, **sender)

    def command(self, text: str, **sender: Any) -> dict[str, Any]:
        """``/command args`` with its bot_command entity; ``sender`` as for
        operator_text."""
        if not text.startswith("/"):
            raise ValueError("a command starts with /")
        length = utf16_length(text.split(maxsplit=1)[0])
        entity = {"type": "bot_command", "offset": 0, "length": length}
        return self.operator_text(text, entities=[entity], **sender)

    def operator_edit(self, message_id: int, text: str) -> dict[str, Any]:
        """``edited_message``: a human's text message in the operator chat, edited."""
        with self._cond:
            key = (self.chat_id, message_id)
            if key not in self._state.messages:
                raise ValueError(f"the fake knows no message {key}")
            message = self._state.messages[key]
            message.pop("entities", None)
            message["text"] = text
            message["edit_date"] = int(time.time())
            return {"edited_message": self._state.render(key)}

    def operator_photo(
        self,
        content: bytes = b"\x89PNG\r\n\x1a\nfake photo",
        *,
        caption: str | None = None,
        **sender: Any,
    ) -> dict[str, Any]:
        """A photo (two sizes, both downloadable); ``sender`` as for operator_text."""
        with self._cond:
            fields: dict[str, Any] = {"photo": self._state.photo_sizes(content)}
        if caption:
            fields["caption"] = caption
        return self._human_message(fields, **sender)

    def operator_document(
        self,
        content: bytes = b"%PDF-1.4 fake document",
        *,
        file_name: str = "belge.pdf",
        file_size: int | None = None,
        **sender: Any,
    ) -> dict[str, Any]:
        """A document; ``file_size`` may claim more than ``content`` (a file over the
        download limit without its bytes); ``sender`` as for operator_text."""
        with self._cond:
            stored = self._state.store_file(
                content,
                folder="document",
                file_size=file_size,
                filename=file_name,
                mime_type="application/pdf",
            )
        document = {**stored.fields(), "file_name": file_name}
        return self._human_message({"document": document}, **sender)

    def private_start(
        self, user_id: int, payload: str | None = None, *, username: str | None = None
    ) -> dict[str, Any]:
        """``/start <payload>`` in the user's private chat with the bot."""
        with self._cond:
            if user_id not in self._state.chats:
                self._state.add_chat(Chat(user_id, "private", first_name="Ayşe"))
        return self.command(
            f"/start {payload}" if payload else "/start",
            user_id=user_id,
            username=username,
            chat_id=user_id,
        )

    def _human_message(
        self,
        content: dict[str, Any],
        *,
        user_id: int,
        first_name: str = "Ayşe",
        username: str | None = None,
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
        chat_id: int | None = None,
        language_code: str = "tr",
    ) -> dict[str, Any]:
        with self._cond:
            state = self._state
            chat = state.chats[self.chat_id if chat_id is None else chat_id]
            reply_key: Key | None = None
            if reply_to_message_id is not None:
                reply_key = (chat.id, reply_to_message_id)
                if reply_key not in state.messages:
                    raise ValueError(f"the fake knows no message {reply_key}")
                if message_thread_id is None:
                    message_thread_id = state.messages[reply_key].get(
                        "message_thread_id"
                    )
                if reply_key in state.deleted:
                    reply_key = None  # Telegram omits a deleted reply target
            if message_thread_id is not None and chat.is_forum:
                topic = state.live_topic(chat, message_thread_id)
                if topic is None:
                    raise ValueError(f"no topic {message_thread_id} to post in")
                if topic.closed and user_id != OPERATOR_USER_ID:  # the only admin
                    raise TopicClosed(f"topic {message_thread_id} is closed")
            sender: dict[str, Any] = {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name,
                "language_code": language_code,
            }
            if username:
                sender["username"] = username
            key = state.store_message(
                chat,
                sender=sender,
                thread_id=message_thread_id,
                reply_key=reply_key,
                content=content,
            )
            return {"message": state.render(key)}
