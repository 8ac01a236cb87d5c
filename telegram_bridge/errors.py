"""What a Telegram error means for the bridge: wait, try again later, or give up.

Only what can never pass is given up at once (content Telegram refuses as such);
everything else can pass later (the network, Telegram itself, the bot's rights in
the group, a group upgraded to a supergroup that the site owner has to set) and is
tried again with back-off, a bounded number of times.
"""

from __future__ import annotations

import enum
import logging

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

logger = logging.getLogger(__name__)


class Verdict(enum.Enum):
    WAIT = "wait"  # 429: the pacer holds the chat for retry_after
    CHAT = "chat"  # the chat refuses the bot for now: nothing goes there for a while
    TOPIC_GONE = "topic_gone"  # the forum topic was deleted: make a new one
    RETRY = "retry"  # may pass later: try this again with back-off
    REFUSED = "refused"  # this content can never pass


# Refusals of the chat as a whole, which last until someone changes the group.
_CHAT_REFUSALS = (
    "not enough rights",
    "have no rights",
    "need administrator rights",
    "chat_write_forbidden",
    "chat_admin_required",
    "chat_restricted",
    "chat not found",
    "bot is not a member",
    "bot was kicked",
    "topic_closed",
)
_TOPIC_GONE = ("message thread not found", "topic_id_invalid", "topic_deleted")
# Refusals of the content itself: sending it again cannot help.
_CONTENT_REFUSALS = (
    "message is too long",
    "message text is empty",
    "message caption is too long",
    "can't parse entities",
    "wrong file identifier",
    "file is too big",
    "photo_invalid_dimensions",
    "image_process_failed",
    "wrong type of the web page content",
    "failed to get http url content",
    "entity too large",
)


def classify(exc: TelegramError) -> Verdict:
    """The verdict on one failed call."""
    text = str(exc).lower()
    if isinstance(exc, RetryAfter):
        return Verdict.WAIT
    if isinstance(exc, Forbidden | ChatMigrated | InvalidToken):
        return Verdict.CHAT
    if any(hint in text for hint in _TOPIC_GONE):
        return Verdict.TOPIC_GONE
    if any(hint in text for hint in _CHAT_REFUSALS):
        return Verdict.CHAT
    if any(hint in text for hint in _CONTENT_REFUSALS):
        return Verdict.REFUSED
    return Verdict.RETRY  # network, timeouts, Telegram's 5xx, refusals we don't know


def is_unchanged(exc: BadRequest) -> bool:
    """Telegram's answer to a change that is already so (a topic closed twice)."""
    return "not_modified" in str(exc).lower() or "not modified" in str(exc).lower()


def describe(exc: TelegramError, *, chat_id: int) -> str:
    """One line for the log and the health page; says what to do where it can."""
    if isinstance(exc, ChatMigrated):
        return migration_advice(chat_id, exc.new_chat_id)
    if isinstance(exc, InvalidToken):
        return (
            "Telegram refused TELEGRAM_BOT_TOKEN (revoked or mistyped): take the token "
            f"from @BotFather and restart the bridge ({exc.message})"
        )
    if isinstance(exc, Forbidden):
        return (
            f"the bot may not post in chat {chat_id} ({exc.message}): add it back to "
            "the group as an administrator"
        )
    if isinstance(exc, NetworkError | TelegramError):
        return f"{type(exc).__name__}: {exc.message}"
    return str(exc)  # pragma: no cover


def migration_advice(chat_id: int, new_chat_id: int) -> str:
    return (
        f"Telegram upgraded the operators' group {chat_id} to a supergroup, whose id "
        f"is {new_chat_id}: set TELEGRAM_CHAT_ID={new_chat_id} and restart the bridge"
    )
