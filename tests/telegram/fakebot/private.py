"""People's private chats with the bot (a visitor who continues in Telegram) and
their reactions in the operator chat: builders of updates (pass them to
``push_update``), and the reply keyboard the bot shows in a private chat.

As Telegram does: a ``request_contact`` button only in a private chat, a contact
carries ``user_id`` only when it is a Telegram user's (the sender's own, when they
share it with the button), and ``message_reaction`` updates only reach a bot that
asked for them in ``allowed_updates`` and is an administrator of the group.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from tests.telegram.fakebot.errors import bad_request
from tests.telegram.fakebot.server import Params
from tests.telegram.fakebot.state import Chat, State

DEFAULT_FIRST_NAME = "Elif"


def reply_markup(state: State, chat: Chat, params: Params) -> None:
    """Check sendMessage's ``reply_markup`` (a reply keyboard, or its removal) and
    remember what the chat's user now sees. Raises ApiError."""
    markup = params.structure("reply_markup")
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        raise bad_request("inline keyboards: not implemented by the fake")
    if markup.get("remove_keyboard") is True:
        state.keyboards[chat.id] = None
        return
    rows = markup.get("keyboard")
    if not isinstance(rows, list) or not all(
        isinstance(row, list) and row for row in rows
    ):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                raise bad_request("BUTTON_TEXT_INVALID")
            if button.get("request_contact") and chat.type != "private":
                raise bad_request("phone number can be requested in private chats only")
    state.keyboards[chat.id] = markup


class PrivateChats:
    _cond: threading.Condition
    _state: State
    chat_id: int

    if TYPE_CHECKING:  # OperatorChat's

        def _human_message(
            self, content: dict[str, Any], **sender: Any
        ) -> dict[str, Any]: ...

    def private_text(
        self, user_id: int, text: str, *, language_code: str = "tr"
    ) -> dict[str, Any]:
        """A text the user writes in their private chat with the bot."""
        return self._private(user_id, {"text": text}, language_code)

    def private_contact(
        self,
        user_id: int,
        *,
        phone: str,
        contact_user_id: int | None,
        language_code: str = "tr",
    ) -> dict[str, Any]:
        """A contact the user sends in their private chat: their own (the button:
        ``contact_user_id == user_id``) or someone else's."""
        contact: dict[str, Any] = {"phone_number": phone, "first_name": "Kişi"}
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
        return self._private(user_id, {"contact": contact}, language_code)

    def private_photo(
        self, user_id: int, content: bytes, *, caption: str | None = None
    ) -> dict[str, Any]:
        """A photo (two sizes, both downloadable) in the user's private chat."""
        with self._cond:
            fields: dict[str, Any] = {"photo": self._state.photo_sizes(content)}
        if caption:
            fields["caption"] = caption
        return self._private(user_id, fields, "tr")

    def reaction(self, message_id: int, emoji: str, *, user_id: int) -> dict[str, Any]:
        """``message_reaction``: a member of the operator chat reacts to a message.
        Raises ValueError when Telegram would not tell the bot (not an admin)."""
        with self._cond:
            if self._state.bot_status != "administrator":
                raise ValueError(
                    "Telegram tells only an administrator bot of reactions"
                )
            chat = self._state.chats[self.chat_id]
            if self._state.live(chat, message_id) is None:
                raise ValueError(f"the fake knows no message {message_id}")
            return {
                "message_reaction": {
                    "chat": chat.to_api(),
                    "message_id": message_id,
                    "user": {"id": user_id, "is_bot": False, "first_name": "Ayşe"},
                    "date": int(time.time()),
                    "old_reaction": [],
                    "new_reaction": [{"type": "emoji", "emoji": emoji}],
                }
            }

    def keyboard(self, user_id: int) -> dict[str, Any] | None:
        """The reply keyboard the bot last showed in the user's private chat."""
        with self._cond:
            return self._state.keyboards.get(user_id)

    def _private(
        self, user_id: int, content: dict[str, Any], language_code: str
    ) -> dict[str, Any]:
        with self._cond:
            if user_id not in self._state.chats:
                self._state.add_chat(
                    Chat(user_id, "private", first_name=DEFAULT_FIRST_NAME)
                )
        return self._human_message(
            content,
            user_id=user_id,
            first_name=DEFAULT_FIRST_NAME,
            chat_id=user_id,
            language_code=language_code,
        )
