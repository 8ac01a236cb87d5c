"""What the fake Telegram holds: chats, forum topics, messages, files, the bot's
membership, and what the bot did that leaves no message (chat actions, reactions).
Callers hold the fake's lock."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

OPERATOR_CHAT_ID = -1001234567890
OPERATOR_USER_ID = 500100200  # the group's owner: an admin
BOT_ID = 777000111
BOT_USERNAME = "sohbet_test_bot"
BOT_USER: dict[str, Any] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Sohbet Test Bot",
    "username": BOT_USERNAME,
}
DEFAULT_ICON_COLOR = 0x6FB9F0

Key = tuple[int, int]  # (chat_id, message_id)


def utf16_length(text: str) -> int:
    """Telegram counts text and entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request."""

    content: bytes
    filename: str | None
    content_type: str | None


@dataclass
class Call:
    """One request the server received; ``status``/``response`` are set once answered.
    ``params`` are decoded (numbers, flags, JSON values) whatever the encoding."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    at: float
    status: int | None = None
    response: Any = None


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_size: int
    mime_type: str | None = None

    def fields(self) -> dict[str, Any]:
        """Its fields in a PhotoSize, Voice, Audio or Document."""
        fields: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
        }
        if self.mime_type and not self.file_path.startswith("photos/"):
            fields["mime_type"] = self.mime_type
        return fields


@dataclass
class Topic:
    chat_id: int
    message_thread_id: int
    name: str
    closed: bool = False
    deleted: bool = False

    def to_api(self) -> dict[str, Any]:
        """The ForumTopic object."""
        return {
            "message_thread_id": self.message_thread_id,
            "name": self.name,
            "icon_color": DEFAULT_ICON_COLOR,
        }


@dataclass
class Chat:
    id: int
    type: str  # private, group, supergroup
    title: str | None = None
    is_forum: bool = False
    first_name: str | None = None

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def to_api(self) -> dict[str, Any]:
        """The Chat object embedded in messages."""
        chat: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            chat["first_name"] = self.first_name or ""
        else:
            chat["title"] = self.title or ""
        if self.is_forum:
            chat["is_forum"] = True
        return chat

    def full_info(self) -> dict[str, Any]:
        """The ChatFullInfo object of getChat."""
        return {
            **self.to_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }


@dataclass
class State:
    chats: dict[int, Chat] = field(default_factory=dict)
    migrated: dict[int, int] = field(default_factory=dict)  # old id -> new id
    bot_status: str = "administrator"  # or member, left, kicked
    bot_rights: dict[str, bool] = field(default_factory=dict)
    messages: dict[Key, dict[str, Any]] = field(default_factory=dict)
    replies: dict[Key, Key] = field(default_factory=dict)
    sent: list[Key] = field(default_factory=list)  # the bot's messages, in order
    deleted: set[Key] = field(default_factory=set)
    topics: dict[Key, Topic] = field(default_factory=dict)
    files: dict[str, StoredFile] = field(default_factory=dict)
    chat_actions: list[tuple[int, str, int | None]] = field(default_factory=list)
    reactions: list[tuple[int, int, list[dict[str, Any]]]] = field(default_factory=list)
    keyboards: dict[int, Any] = field(default_factory=dict)  # private chat -> markup
    _message_ids: dict[int, Iterator[int]] = field(default_factory=dict)
    _file_numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def add_chat(self, chat: Chat) -> Chat:
        self.chats[chat.id] = chat
        # Ids start above 1: the General topic of a forum is thread 1.
        self._message_ids.setdefault(chat.id, itertools.count(101))
        return chat

    def bot_can(self, right: str) -> bool:
        return self.bot_status == "administrator" and self.bot_rights.get(right, True)

    def live(self, chat: Chat, message_id: int) -> Key | None:
        """The key of a message of the chat that exists and was not deleted."""
        key = (chat.id, message_id)
        return key if key in self.messages and key not in self.deleted else None

    def live_topic(self, chat: Chat, message_thread_id: int) -> Topic | None:
        topic = self.topics.get((chat.id, message_thread_id))
        return None if topic is None or topic.deleted else topic

    def store_message(
        self,
        chat: Chat,
        *,
        sender: dict[str, Any],
        thread_id: int | None,
        reply_key: Key | None,
        content: dict[str, Any],
    ) -> Key:
        key = (chat.id, next(self._message_ids[chat.id]))
        message: dict[str, Any] = {
            "message_id": key[1],
            "from": sender,
            "chat": chat.to_api(),
            "date": int(time.time()),
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if chat.is_forum:
                message["is_topic_message"] = True
                if reply_key is None and (chat.id, thread_id) in self.messages:
                    # Telegram: a topic message "replies" to the topic's creation.
                    reply_key = (chat.id, thread_id)
        message.update(content)
        self.messages[key] = message
        if reply_key is not None:
            self.replies[key] = reply_key
        return key

    def create_topic(self, chat: Chat, name: str, sender: dict[str, Any]) -> Topic:
        """A topic and its ``forum_topic_created`` message, whose id is the topic's
        ``message_thread_id``."""
        key = (chat.id, next(self._message_ids[chat.id]))
        self.messages[key] = {
            "message_id": key[1],
            "from": sender,
            "chat": chat.to_api(),
            "date": int(time.time()),
            "message_thread_id": key[1],
            "is_topic_message": True,
            "forum_topic_created": {"name": name, "icon_color": DEFAULT_ICON_COLOR},
        }
        topic = Topic(chat.id, key[1], name)
        self.topics[key] = topic
        return topic

    def delete_topic(self, topic: Topic) -> None:
        """The topic and every message in it are gone."""
        topic.deleted = True
        self.deleted.update(
            key
            for key, message in self.messages.items()
            if key[0] == topic.chat_id
            and message.get("message_thread_id") == topic.message_thread_id
        )

    def render(self, key: Key, *, nested: bool = True) -> dict[str, Any]:
        """The Message object, with the message it replies to (one level deep)."""
        message = json.loads(json.dumps(self.messages[key]))
        reply_key = self.replies.get(key)
        if nested and reply_key is not None and reply_key not in self.deleted:
            message["reply_to_message"] = self.render(reply_key, nested=False)
        return message

    def store_file(
        self,
        content: bytes,
        *,
        folder: str,
        file_size: int | None = None,
        filename: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        number = next(self._file_numbers)
        suffix = (
            "." + filename.rsplit(".", 1)[1] if filename and "." in filename else ""
        )
        stored = StoredFile(
            file_id=f"FAKE-{folder}-{number:06d}-file-id",
            file_unique_id=f"fake-unique-{number:06d}",
            file_path=f"{folder}/file_{number}{suffix}",
            content=content,
            file_size=len(content) if file_size is None else file_size,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        return stored

    def photo_sizes(
        self, content: bytes, file_size: int | None = None
    ) -> list[dict[str, Any]]:
        """A photo as Telegram keeps it: a thumbnail and the full size."""
        return [
            {
                **self.store_file(
                    content, folder="photos", file_size=file_size
                ).fields(),
                "width": width,
                "height": height,
            }
            for width, height in ((90, 67), (1280, 960))
        ]
