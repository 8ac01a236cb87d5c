"""What every handler of an update shares: the bridge's ``Context``, the ``Outcome``
with the ``Reply`` objects to send after the commit, the client_id of a Telegram
message, and the ``/command`` a message starts with."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from telegram import Message as TgMessage
from telegram import MessageEntity

# client_id of a message that came from Telegram: the same Telegram message always
# maps to the same chat message, whatever happens to the bridge.
TELEGRAM_NAMESPACE = uuid.UUID("6f0f5a0e-3c55-4d7e-9a43-1b5a3c1e2f70")


@dataclass(frozen=True, slots=True)
class Reply:
    chat_id: int
    text: str
    message_thread_id: int | None = None
    reply_to: int | None = None
    silent: bool = True
    # A private chat's reply keyboard: one button asking for the user's own contact
    # (its label), or the keyboard taken away.
    contact_button: str | None = None
    remove_keyboard: bool = False


@dataclass(frozen=True, slots=True)
class Context:
    owner: str
    chat_id: int
    is_forum: bool
    bot_id: int
    bot_username: str


@dataclass(slots=True)
class Outcome:
    replies: list[Reply] = field(default_factory=list)


def client_id_for(chat_id: int, message_id: int) -> uuid.UUID:
    return uuid.uuid5(TELEGRAM_NAMESPACE, f"{chat_id}:{message_id}")


def parse_command(message: TgMessage, context: Context) -> tuple[str | None, str]:
    text = message.text or ""
    entities = message.entities or ()
    if not text.startswith("/") or not any(
        e.type == MessageEntity.BOT_COMMAND and e.offset == 0 for e in entities
    ):
        return None, ""
    head, _sep, argument = text.partition(" ")
    name, _at, target = head[1:].partition("@")
    if target and target.lower() != context.bot_username.lower():
        return None, ""  # a command for another bot
    return name.lower(), argument.strip()
